"""End-to-end performance of the torch-free serving path, each figure next to its baseline from the same run.

Run: ``.venv/bin/python bench/e2e.py [--home DIR] [--users 20,50] [--seconds 15] [--pg URL | --no-pg]
[--import-pages N] [--skip latency,cold,http,import] [--json]``

* latency: ``Engine.handle`` p50/p99 on 12 realistic messages (a fresh conversation each) next to one bare
  ONNX Runtime fp32 pass over the same message, interleaved call by call (goal: ratio <= 1.5 at p50, <= 2 at p99);
* cold start: ``helpdesk ask --json`` in a fresh process, wall clock and CPU (goal <= 3 s), and
  ``helpdesk serve`` from spawn until ``/readyz`` is ready and until its first answer;
* HTTP: ``POST /api/v1/messages`` from 20 and 50 concurrent conversations against one ``serve`` process on
  SQLite and PostgreSQL: messages/s, p50/p99, errors (goal >= 100 msg/s, p99 <= 250 ms, 0 errors);
* RSS of that ``serve`` process (VmRSS after the load, VmHWM peak; goal <= 400 MB);
* import: ``helpdesk kb import`` of ``../shared/benchmarks/kb-18f/pages`` into a fresh database (chunks/s) next to
  the bare encoder on the same chunk texts (one sorted call, and 64-text batches in the importer's order),
  int8 too; then the re-import of the unchanged base (goal >= 0.8x the bare encoder; re-import <= 2 s).

The served processes log at WARNING (``BENCH_LOG_LEVEL`` to change): no access-log or "turn done" line per
request. Account turns' deliberate uniform delay (``directory.uniform_reply_seconds``, 0.6 s) is set to 0 for the run
(``BENCH_UNIFORM_REPLY_SECONDS`` to change): it is a pause, not work, and would otherwise be the p99 by design.
The prepared installation (ONNX export, migrated SQLite database with the bundled articles, trained model) lives in
``--home`` (default: a folder under the temp dir, reused). The chat API's rate limits are raised for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KB18F = ROOT.parent / "shared" / "benchmarks" / "kb-18f" / "pages"
HELPDESK = str(Path(sys.executable).with_name("helpdesk"))
TOKEN = "bench-" + "t" * 32

from bench.encoder_onnx import MESSAGES  # noqa: E402  (the 12 realistic messages)

_PREPARE = """
import sys
from bot.cli import app
from intents.encoder import export_encoder
export_encoder(sys.argv[1])
steps = [["db", "upgrade"], ["kb", "import", sys.argv[2]]] + ([["train", "--json"]] if sys.argv[3] == "1" else [])
for args in steps:
    app(args, standalone_mode=False)
"""


def env_for(home: Path, db_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({
        "HELPDESK_DATABASE__URL": db_url or f"sqlite:///{home / 'helpdesk.db'}",
        # a frozen copy of data/: edits to the working tree's intents do not retrain mid-run
        "HELPDESK_PATHS__DATA_DIR": str(home / "data"), "HELPDESK_PATHS__MODELS_DIR": str(home / "models"),
        "HELPDESK_PATHS__VAR_DIR": str(home / "var"), "HELPDESK_CONFIG": str(home / "helpdesk.toml"),
        "HELPDESK_SERVER__API_TOKEN": TOKEN,
        "HELPDESK_SERVER__API_MESSAGES_PER_MINUTE": "1000000",
        "HELPDESK_SERVER__API_REQUESTS_PER_MINUTE_PER_IP": "1000000",
        # account turns wait on purpose (uniform timing of "not found"/"protected" replies): a pause, not work
        "HELPDESK_DIRECTORY__UNIFORM_REPLY_SECONDS": os.environ.get("BENCH_UNIFORM_REPLY_SECONDS", "0"),
        # no access line and no "turn done" line per request (warnings, e.g. "turn not stored", still counted)
        "HELPDESK_LOGGING__LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "HF_HUB_OFFLINE": "1", **extra,
    })
    return env


def compile_bytecode() -> None:
    """Byte-compile the project's packages, as ``pip install`` and the Docker image do: the cold start measures a
    deployed bot, not one recompiling its sources on every start (PYTHONDONTWRITEBYTECODE in a dev shell)."""
    import compileall

    for package in ("bot", "intents", "knowledge_base", "integrations", "training"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def prepare(home: Path, db_url: str | None = None) -> None:
    """Export + migrate + import data/kb + train, unless already done for this database."""
    compile_bytecode()
    home.mkdir(parents=True, exist_ok=True)
    (home / "helpdesk.toml").touch()
    if not (home / "data").exists():
        shutil.copytree(ROOT / "data", home / "data")
    marker = home / (".prepared-" + hashlib.sha1((db_url or "sqlite").encode()).hexdigest()[:12])
    if marker.exists():
        return
    trained = (home / "models" / "nlu").is_dir()  # another database of this home: the model is there already
    args = [sys.executable, "-c", _PREPARE, str(home / "models"), str(home / "data" / "kb"), "0" if trained else "1"]
    proc = subprocess.run(args, env=env_for(home, db_url), cwd=home, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"preparing {home} failed:\n{proc.stderr[-3000:]}")
    marker.touch()


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)) * 1000.0, 2) if values else float("nan")


def mean_ms(values: list[float]) -> float:
    return round(float(np.mean(values)) * 1000.0, 2) if values else float("nan")


def timed_run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


# --- latency --------------------------------------------------------------------------------------------------


def latency(home: Path, repeats: int) -> dict:
    os.environ.update(env_for(home))
    from bot.config import load_settings
    from bot.engine import Engine
    from bot.messages import Message
    from bot.services import Services
    from bot.storage import migrate
    from intents.encoder import encoder_root, uses_onnx
    from intents.onnx_encoder import OnnxEncoder
    from intents.onnx_export import find_export

    services = Services(load_settings(str(home / "helpdesk.toml")))
    migrate.prepare(services.db, auto_migrate=True)
    engine = Engine(services)
    model = find_export(encoder_root(home / "models"))
    assert model is not None
    bare = OnnxEncoder(model)

    def handle(text: str) -> None:
        engine.handle(Message(text=text, user_key=f"bench:{uuid.uuid4().hex}", channel="cli"))

    for m in MESSAGES:  # warm both
        handle(m)
        bare.encode_one(m)
    lat: dict[str, list[float]] = {"Engine.handle": [], "bare ONNX fp32 pass": []}
    # CPU time too (robust to a busy machine): the whole process (ONNX Runtime's threads included), and this
    # thread alone (the Python work around the encoder plus the calling thread's share of the model pass)
    cpu: dict[str, list[float]] = {name: [] for name in lat}
    own: dict[str, list[float]] = {name: [] for name in lat}
    for _ in range(repeats):
        for m in MESSAGES:
            for name, call in (("Engine.handle", handle), ("bare ONNX fp32 pass", bare.encode_one)):
                c, o, t = time.process_time(), time.thread_time(), time.perf_counter()
                call(m)
                lat[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
                own[name].append(time.thread_time() - o)
    out: dict = {name: {"p50_ms": pct(v, 50), "p99_ms": pct(v, 99), "cpu_ms_mean": mean_ms(cpu[name]),
                        "thread_cpu_ms_mean": mean_ms(own[name])} for name, v in lat.items()}
    e, b = out["Engine.handle"], out["bare ONNX fp32 pass"]
    out["ratio"] = {"p50": round(e["p50_ms"] / b["p50_ms"], 2), "p99": round(e["p99_ms"] / b["p99_ms"], 2),
                    "cpu": round(e["cpu_ms_mean"] / b["cpu_ms_mean"], 2)}
    out["onnx_served"] = uses_onnx(services.encoder)
    out["torch_imported"] = "torch" in sys.modules
    return out


# --- serve: cold start, HTTP load, RSS ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


async def load(port: int, users: int, seconds: float) -> dict:
    import aiohttp

    url = f"http://127.0.0.1:{port}/api/v1/messages"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    lat: list[float] = []
    sent = [0]
    errors: dict[str, int] = {}
    run = uuid.uuid4().hex[:6]

    async def user(k: int, until: float, record: bool) -> None:
        j = 0
        while time.perf_counter() < until:
            body = {"user": f"u{run}-{k}", "text": MESSAGES[(k + j) % len(MESSAGES)]}
            j += 1
            sent[0] += 1
            t = time.perf_counter()
            try:
                async with session.post(url, json=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                status = type(exc).__name__  # type: ignore[assignment]
            if record:
                lat.append(time.perf_counter() - t)
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        warm = time.perf_counter() + 2.0
        await asyncio.gather(*(user(k, warm, False) for k in range(users)))
        start = time.perf_counter()
        await asyncio.gather(*(user(k, start + seconds, True) for k in range(users)))
        wall = time.perf_counter() - start
    return {"users": users, "messages": len(lat), "messages_incl_warmup": sent[0],
            "msgs_per_s": round(len(lat) / wall, 1),
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "errors": errors}


def serve(home: Path, db_url: str | None, users: list[int], seconds: float) -> dict:
    import httpx

    port = free_port()
    env = env_for(home, db_url)
    t0 = time.perf_counter()
    log_path = home / "serve.log"  # a file, not a pipe: a full pipe would stall the server's logging
    log_file = open(log_path, "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen([HELPDESK, "serve", "--port", str(port)], env=env, cwd=home,
                            stdout=subprocess.DEVNULL, stderr=log_file)
    out: dict = {}
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        out["spawn_to_ready_s"] = round(time.perf_counter() - t0, 2)
        out["cpu_to_ready_s"] = round(cpu_s(proc.pid), 2)
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/messages", json={"user": "first", "text": MESSAGES[2]},
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        r.raise_for_status()
        out["spawn_to_first_answer_s"] = round(time.perf_counter() - t0, 2)
        out["rss_after_first_answer_mb"] = rss_mb(proc.pid)["VmRSS"]
        out["load"] = []
        for n in users:  # server CPU per message: what the throughput would be on idle cores
            before = cpu_s(proc.pid)
            result = asyncio.run(load(port, n, seconds))
            used = cpu_s(proc.pid) - before
            result["server_cpu_ms_per_msg"] = round(1000 * used / max(1, result["messages_incl_warmup"]), 1)
            out["load"].append(result)
        out["rss_mb"] = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
        out["turns_not_stored"] = log_path.read_text().count("turn not stored")
    return out


def cold_ask(home: Path, runs: int) -> dict:
    env = env_for(home)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, stdout = timed_run([HELPDESK, "ask", MESSAGES[2], "--json"], env, home)
        assert json.loads(stdout)["outcome"], stdout
        walls.append(wall)
        cpus.append(cpu)
    wall, cpu, _ = timed_run([sys.executable, "-c", "pass"], env, home)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import bot.cli, bot.engine, bot.server"],
                          env=env, cwd=home, capture_output=True, text=True, check=True)
    top: dict[str, int] = {}
    for line in proc.stderr.splitlines():  # "import time: self | cumulative | name"
        parts = line.split("|")
        if len(parts) == 3 and parts[0].split(":")[-1].strip().isdigit():
            root = parts[2].strip().split(".")[0]
            top[root] = top.get(root, 0) + int(parts[0].split(":")[-1])
    heaviest = sorted(top.items(), key=lambda kv: -kv[1])[:8]
    return {"ask_wall_s": [round(w, 2) for w in walls], "ask_cpu_s": [round(c, 2) for c in cpus],
            "bare_python_start_s": round(wall, 3),
            "import_ms_by_package": {k: round(v / 1000) for k, v in heaviest},
            "serving_imports_torch": any(k in top for k in ("torch", "transformers", "sentence_transformers"))}


# --- import ---------------------------------------------------------------------------------------------------


def import_bench(home: Path, pages: int | None) -> dict:
    from bench.encoder_onnx import kb_pages
    from bot.vector_cache import text_key
    from intents.encoder import encoder_root
    from intents.onnx_encoder import OnnxEncoder
    from intents.onnx_export import find_export

    src = KB18F
    if pages is not None:  # the first N pages, in a scratch copy
        src = home / f"pages-{pages}"
        if not src.exists():
            for path in sorted(KB18F.rglob("*.md"))[:pages]:
                target = src / path.relative_to(KB18F)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
    corpus = kb_pages(src)
    texts = [t for _, ts in corpus for t in ts]
    db = home / f"import-{uuid.uuid4().hex[:6]}.db"
    env = env_for(home, f"sqlite:///{db}")
    subprocess.run([HELPDESK, "db", "upgrade"], env=env, cwd=home, check=True, capture_output=True)
    out: dict = {"pages": len(list(src.rglob("*.md"))), "chunks": len(texts)}
    wall, cpu, _ = timed_run([HELPDESK, "kb", "import", str(src)], env, home)
    out["kb_import"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "chunks_per_s": round(len(texts) / wall, 1)}
    wall, cpu, _ = timed_run([HELPDESK, "kb", "import", str(src)], env, home)
    out["reimport_unchanged_s"] = round(wall, 2)
    out["reimport_unchanged_cpu_s"] = round(cpu, 2)
    db.unlink(missing_ok=True)
    db8 = home / f"import-int8-{uuid.uuid4().hex[:6]}.db"
    env8 = env_for(home, f"sqlite:///{db8}")
    subprocess.run([HELPDESK, "db", "upgrade"], env=env8, cwd=home, check=True, capture_output=True)
    wall, cpu, _ = timed_run([HELPDESK, "kb", "import", str(src), "--int8"], env8, home)
    out["kb_import_int8"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                             "chunks_per_s": round(len(texts) / wall, 1)}
    db8.unlink(missing_ok=True)

    model = find_export(encoder_root(home / "models"), need_int8=True)
    assert model is not None
    vectors: dict[str, np.ndarray] = {}
    fp32 = OnnxEncoder(model)
    for name, enc in (("bare fp32", fp32), ("bare int8", OnnxEncoder(model, quantized=True))):
        enc.encode(texts[:64])
        t = time.perf_counter()
        vectors[name] = enc.encode(texts, batch_size=64)
        sorted_s = time.perf_counter() - t
        keyed = sorted(dict.fromkeys(texts), key=text_key)  # the importer's order: batches of 64 by text hash
        t = time.perf_counter()
        for start in range(0, len(keyed), 64):
            enc.encode(keyed[start:start + 64])
        keyed_s = time.perf_counter() - t
        out[name] = {"one_sorted_call_chunks_per_s": round(len(texts) / sorted_s, 1),
                     "hash_ordered_batches_chunks_per_s": round(len(keyed) / keyed_s, 1)}
    out["import_vs_bare_fp32"] = round(out["kb_import"]["chunks_per_s"]
                                       / out["bare fp32"]["one_sorted_call_chunks_per_s"], 2)
    out["int8_speed_gain"] = round(out["bare int8"]["one_sorted_call_chunks_per_s"]
                                   / out["bare fp32"]["one_sorted_call_chunks_per_s"], 2)
    questions_file = KB18F.parent / "questions.dev.jsonl"
    if pages is None and questions_file.exists():  # the quality cost: an int8 index searched with fp32 questions
        from bench.encoder_onnx import hit_at_k

        questions = [json.loads(line) for line in questions_file.read_text().splitlines() if line.strip()]
        q_vecs = fp32.encode([q["q"] for q in questions])
        out["dense_hit_at_k_18f_dev"] = {"fp32 index": hit_at_k(corpus, vectors["bare fp32"], questions, q_vecs),
                                         "int8 index": hit_at_k(corpus, vectors["bare int8"], questions, q_vecs)}
    return out


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def pg_database(base: str) -> tuple[str, str] | None:
    try:
        import psycopg

        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            name = f"helpdesk_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - no server: the PostgreSQL leg is skipped
        print(f"(PostgreSQL leg skipped: {type(exc).__name__})", file=sys.stderr)
        return None
    url = base.rsplit("/", 1)[0] + f"/{name}"
    return url.replace("postgresql://", "postgresql+psycopg://", 1), name


def drop_pg(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench-e2e")
    ap.add_argument("--users", default="20,50")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured seconds per HTTP load level")
    ap.add_argument("--repeats", type=int, default=20, help="rounds over the 12 messages for the latency test")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--import-pages", type=int, default=None, help="import only the first N of the 238 pages")
    ap.add_argument("--skip", default="", help="comma-separated: latency,cold,http,import")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    users = [int(u) for u in args.users.split(",")]
    home = args.home.resolve()
    prepare(home)
    report: dict = {"machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"}
    if "cold" not in skip:
        report["cold_start"] = cold_ask(home, 3)
    if "http" not in skip:
        report["serve_sqlite"] = serve(home, None, users, args.seconds)
        pg = None if args.no_pg else pg_database(args.pg)
        if pg is not None:
            try:
                prepare(home, pg[0])
                report["serve_postgresql"] = serve(home, pg[0], users, args.seconds)
            finally:
                drop_pg(args.pg, pg[1])
    if "import" not in skip and KB18F.is_dir():
        report["import"] = import_bench(home, args.import_pages)
    if "latency" not in skip:  # last: it loads the engine into this process
        report["latency"] = latency(home, args.repeats)
    report["load_average_at_end"] = round(os.getloadavg()[0], 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_report(report)


def print_report(r: dict) -> None:
    print(f"machine: {r['machine']}; at end {r['load_average_at_end']}")
    if "latency" in r:
        lat = r["latency"]
        e, b = lat["Engine.handle"], lat["bare ONNX fp32 pass"]
        print(f"\nEngine.handle      p50 {e['p50_ms']:7.2f} ms  p99 {e['p99_ms']:7.2f} ms   (ONNX served: "
              f"{lat['onnx_served']}, torch imported: {lat['torch_imported']})")
        print(f"bare ONNX fp32     p50 {b['p50_ms']:7.2f} ms  p99 {b['p99_ms']:7.2f} ms")
        print(f"ratio              p50 x{lat['ratio']['p50']:.2f} (goal <= 1.5)   p99 x{lat['ratio']['p99']:.2f} "
              "(goal <= 2)")
        print(f"CPU per message    Engine.handle {e['cpu_ms_mean']} ms (calling thread {e['thread_cpu_ms_mean']} ms), "
              f"bare pass {b['cpu_ms_mean']} ms (calling thread {b['thread_cpu_ms_mean']} ms): x{lat['ratio']['cpu']}")
    if "cold_start" in r:
        c = r["cold_start"]
        print(f"\ncold start: helpdesk ask --json wall {c['ask_wall_s']} s, CPU {c['ask_cpu_s']} s (goal <= 3 s); "
              f"bare python start {c['bare_python_start_s']} s")
        print(f"  import time of bot.cli + bot.engine + bot.server by package (ms, self time summed): "
              f"{c['import_ms_by_package']}; torch among them: {c['serving_imports_torch']}")
    for leg in ("serve_sqlite", "serve_postgresql"):
        if leg not in r:
            continue
        s = r[leg]
        print(f"\n{leg}: spawn -> /readyz ready {s['spawn_to_ready_s']} s ({s['cpu_to_ready_s']} s CPU), "
              f"-> first answer {s['spawn_to_first_answer_s']} s; "
              f"RSS after first answer {s['rss_after_first_answer_mb']} MB, "
              f"after load {s['rss_mb'].get('VmRSS')} MB (peak {s['rss_mb'].get('VmHWM')} MB; goal <= 400)")
        print(f"  turns the engine could not store (answered 'try again'): {s.get('turns_not_stored')}")
        for x in s["load"]:
            print(f"  {x['users']:3d} users: {x['msgs_per_s']:7.1f} msg/s (goal >= 100)  p50 {x['p50_ms']:7.1f} ms  "
                  f"p99 {x['p99_ms']:7.1f} ms (goal <= 250)  errors {x['errors'] or 0}  ({x['messages']} messages; "
                  f"server CPU {x['server_cpu_ms_per_msg']} ms/msg = at most "
                  f"{round(1000 * (os.cpu_count() or 1) / max(x['server_cpu_ms_per_msg'], 0.1))} msg/s on idle cores)")
    if "import" in r:
        i = r["import"]
        k = i["kb_import"]
        print(f"\nkb import of {i['pages']} pages / {i['chunks']} chunks into a fresh database: {k['wall_s']} s wall, "
              f"{k['chunks_per_s']} chunks/s = x{i['import_vs_bare_fp32']} of the bare fp32 encoder (goal >= 0.8); "
              f"re-import unchanged {i['reimport_unchanged_s']} s (goal <= 2)")
        print(f"  re-import CPU {i['reimport_unchanged_cpu_s']} s; kb import --int8 into a fresh database: "
              f"{i['kb_import_int8']['wall_s']} s wall, {i['kb_import_int8']['chunks_per_s']} chunks/s")
        for name in ("bare fp32", "bare int8"):
            b = i[name]
            print(f"  {name}: {b['one_sorted_call_chunks_per_s']} chunks/s in one length-sorted call, "
                  f"{b['hash_ordered_batches_chunks_per_s']} chunks/s in 64-text batches in text-hash order")
        print(f"  int8 encoder: x{i['int8_speed_gain']} the fp32 chunks/s", end="")
        if "dense_hit_at_k_18f_dev" in i:
            q = i["dense_hit_at_k_18f_dev"]
            print("; quality on the 18F dev set (dense-only, fp32 questions): "
                  + "; ".join(f"{k} hit@1 {v['hit@1']} hit@5 {v['hit@5']} MRR {v['mrr']}" for k, v in q.items()))
        else:
            print()


if __name__ == "__main__":
    main()

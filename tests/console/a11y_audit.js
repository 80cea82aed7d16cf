// Run in a console page by tests/console/test_accessibility.py: every problem found, as text (empty: it passes).
() => {
  const problems = [];
  const short = el => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('field without a label: ' + short(el));
  }
  const hs = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1]);
  const h1s = hs.filter(l => l === 1).length;
  if (h1s !== 1) problems.push('h1 count is ' + h1s);
  hs.forEach((l, i) => { if (i > 0 && l > hs[i - 1] + 1) problems.push(`heading h${hs[i - 1]} then h${l}`); });
  for (const th of document.querySelectorAll('th')) {
    if (!th.getAttribute('scope')) problems.push('th without scope: ' + short(th));
  }
  for (const el of document.querySelectorAll('[tabindex]')) {
    if (+el.getAttribute('tabindex') > 0) problems.push('positive tabindex: ' + short(el));
  }
  const navs = [...document.querySelectorAll('nav a[href]')];
  const here = navs.filter(a => a.getAttribute('aria-current') === 'page');
  const expected = location.pathname === '/console/'
    || navs.some(a => a.pathname !== '/console/' && location.pathname.startsWith(a.pathname));
  if (navs.length && expected && here.length !== 1) problems.push('aria-current on ' + here.length + ' nav links');
  const rgb = c => (c.match(/[\d.]+/g) || ['0', '0', '0', '0']).map(Number);
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const seen = new Set();
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.tagName === 'OPTION' || el.tagName === 'SCRIPT') continue;
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!text) continue;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || el.closest('[disabled]')) continue;
    const fg = rgb(s.color);
    const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize);
    const need = (size >= 24 || (+s.fontWeight >= 700 && size >= 18.66)) ? 3 : 4.5;
    const key = s.color + '/' + bg.join(',') + '/' + need;
    if (ratio < need && !seen.has(key)) {
      seen.add(key);
      problems.push(`contrast ${ratio.toFixed(2)} < ${need}: "${text.slice(0, 40)}" (${s.color} on rgb(${bg.slice(0, 3)}))`);
    }
  }
  return problems;
}

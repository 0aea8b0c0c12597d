// Before first paint (a blocking script in <head>), so a remembered theme never flashes the other one.
try {
  const theme = localStorage.getItem('formicary-theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {}

// Site-wide behaviour without inline event handlers (the Content-Security-Policy allows no
// inline script but a nonce'd one): a <select data-autosubmit> submits its form on change.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});

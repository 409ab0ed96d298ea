// django-unfold opens related-object forms ("+", pencil) and raw-id look-ups (magnifier) in an
// <iframe> modal. Every response of this site says X-Frame-Options: DENY and CSP
// frame-ancestors 'none', so such a frame would stay empty: open them as Django's admin always
// has, in a pop-up window (RelatedObjectLookups.js; the answer page calls back its opener).
// Registered on window in the capture phase, so it runs before unfold's document listener.
window.addEventListener("click", (event) => {
  const link = event.target.closest("a.related-widget-wrapper-link, a.related-lookup");
  if (!link || !link.getAttribute("href")) return;
  const lookup = link.classList.contains("related-lookup");
  const open = lookup ? window.showRelatedObjectLookupPopup : window.showRelatedObjectPopup;
  if (typeof open !== "function") return;
  event.preventDefault();
  event.stopImmediatePropagation();
  open(link);
}, { capture: true });

// Shooting-response pages. Buttons marked data-print open the browser's print dialogue
// (the review page has a print stylesheet).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// The import form: show that the (possibly long) GiNZA segmentation is running.
document.getElementById("upload-form").addEventListener("submit", (event) => {
  event.target.querySelector("button").disabled = true;
  event.target.querySelector(".busy").hidden = false;
});

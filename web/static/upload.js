// The import forms: show that reading or segmenting is running, and stop a second submission.
// (Buttons are not disabled: a disabled submit button would drop its action from the form data.)
document.getElementById("upload-form").addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  const action = event.submitter ? event.submitter.value : "";
  if (action !== "cancel") form.querySelector(".busy").hidden = false;
});

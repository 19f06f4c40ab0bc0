// The demo portal's own script: signing out of the portal signs the patient out of the chat
// (WEB-1: the stored conversation id goes with it).
document.getElementById("portal-sign-out").addEventListener("click", () => {
  window.MarrowAftercare.logout();
  document.getElementById("portal-state").textContent = "You are signed out. Reload the page to sign in again.";
});

// Passkeys (WebAuthn) need JavaScript: the browser's credentials API has no form.
// Everything else on these pages works without this file.
(() => {
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBytes(d.id) }));

  const creationOptions = (json) => ({
    ...json,
    challenge: toBytes(json.challenge),
    user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  });
  const requestOptions = (json) => ({
    ...json,
    challenge: toBytes(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  });

  const asJSON = (credential) => {
    const response = credential.response;
    const out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) out.response.transports = response.getTransports();
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) out.response.userHandle = toText(response.userHandle);
    }
    return JSON.stringify(out);
  };

  const supported = () => typeof window.PublicKeyCredential === "function";

  document.addEventListener("DOMContentLoaded", () => {
    if (supported()) {
      document.querySelectorAll("[data-needs-passkeys]").forEach((el) => { el.hidden = false; });
      document.querySelectorAll("[data-passkeys-unsupported]").forEach((el) => { el.hidden = true; });
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const mode = form.dataset.passkey;
    if (!mode) return;
    const field = form.querySelector("input[name=credential]");
    if (field.value) return; // answered: let it go
    event.preventDefault();
    const error = document.getElementById("passkey-error");
    error.hidden = true;
    try {
      const options = JSON.parse(form.dataset.options);
      const credential = mode === "create"
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
      field.value = asJSON(credential);
      form.submit();
    } catch (problem) {
      error.textContent = "Your browser did not use a passkey (" + problem.name + "). Try again, or go back.";
      error.hidden = false;
    }
  });
})();

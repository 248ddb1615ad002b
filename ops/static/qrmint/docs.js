// The API reference (Swagger UI over /openapi.json), started from a file: the page's
// Content-Security-Policy forbids inline scripts. "Authorize" takes an API key.
"use strict";

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
  validatorUrl: null, // never ask an outside validator about our document
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});

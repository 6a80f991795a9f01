/* The admins' interactive API docs (/api-docs): Swagger UI over /api/openapi.json, vendored, no CDN.
   Loaded as a file because the panel's Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrf = root.getAttribute("data-csrf");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,  // never ask validator.swagger.io: nothing leaves the panel
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    defaultModelsExpandDepth: 0,
    requestInterceptor: function (request) {
      // "Try it out" with this panel session: its writes need the CSRF token (an API token needs none)
      var method = (request.method || "GET").toUpperCase();
      if (csrf && method !== "GET" && method !== "HEAD" && request.url.indexOf("/api/admin/") !== -1) {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    }
  });
})();

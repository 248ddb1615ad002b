// GraphiQL for qrmint, started from a file (the page's Content-Security-Policy forbids
// inline scripts). Queries and mutations go over HTTP POST to this page's URL; a
// subscription goes over WebSocket (graphql-transport-ws) to the same URL, and GraphiQL
// sends the headers from its Headers pane as the `connection_init` payload, which is
// where qrmint reads the API key of a WebSocket connection.
"use strict";

const EXAMPLE_QUERY = `# qrmint GraphQL. Put your API key in the Headers pane below:
#   {"Authorization": "Bearer qm_..."}
# then run this with Ctrl-Enter (or the play button).
#
# A subscription runs over WebSocket, with the same key:
#   subscription { scanCount(qrId: "QR_ID") { totalScans uniqueScans lastScanAt } }

{
  me {
    tier
    usage { generationsUsed dynamicQrCount }
  }
}
`;
const EXAMPLE_HEADERS = `{
  "Authorization": "Bearer <your API key>"
}`;

function webSocketUrl(httpUrl) {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.toString();
}

const pageUrl = window.location.href.split(/[?#]/)[0];

const NO_KEY = {
  errors: [{ message: "Put your API key in the Headers pane to load the schema." }],
};

function hasKey(headers) {
  const key = keyIn(JSON.stringify(headers || {}));
  return Boolean(key) && !key.includes("<");
}

function newFetcher() {
  const fetcher = GraphiQL.createFetcher({
    url: pageUrl,
    subscriptionUrl: webSocketUrl(pageUrl),
  });
  return function (params, options) {
    // Without a key the schema cannot load (every call needs one): say so, ask nothing.
    if (params.operationName === "IntrospectionQuery" && !hasKey(options && options.headers)) {
      return Promise.resolve(NO_KEY);
    }
    return fetcher(params, options);
  };
}

// The key lives in the Headers pane. GraphiQL loads the schema (for completion and the
// docs) when it gets a new fetcher, so a new key gets a new fetcher, shortly after typing.
function keyIn(headersText) {
  try {
    const headers = JSON.parse(headersText || "{}");
    return headers.Authorization || headers.authorization || headers["X-API-Key"] || "";
  } catch (error) {
    return null; // half-typed JSON: wait for more
  }
}

function QrmintGraphiQL() {
  const [fetcher, setFetcher] = React.useState(newFetcher);
  const lastKey = React.useRef(keyIn(EXAMPLE_HEADERS));
  const timer = React.useRef(null);
  function onEditHeaders(text) {
    clearTimeout(timer.current);
    timer.current = setTimeout(function () {
      const key = keyIn(text);
      if (key !== null && key !== lastKey.current) {
        lastKey.current = key;
        setFetcher(newFetcher);
      }
    }, 400);
  }
  return React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: EXAMPLE_QUERY,
    defaultHeaders: EXAMPLE_HEADERS,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
    onEditHeaders: onEditHeaders,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(QrmintGraphiQL),
);

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
const fetcher = GraphiQL.createFetcher({
  url: pageUrl,
  subscriptionUrl: webSocketUrl(pageUrl),
});

const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(
  React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: EXAMPLE_QUERY,
    defaultHeaders: EXAMPLE_HEADERS,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  }),
);

// GraphiQL, served by the binary with its bundles: queries over POST /graphql, subscriptions over
// the same host's /graphql/ws (graphql-transport-ws, GraphiQL's bundled graphql-ws client). It
// opens with a tab per example; a token goes in the Headers editor (it is not saved). An ES
// module over the vendored bundles, which are classic scripts that set the globals React,
// ReactDOM and GraphiQL before it runs.

const dashboardQuery = `# The dashboard query: every city with its latest coverage and its programmes.
# Press the run button (or Ctrl-Enter). Docs are in the book icon on the left.
# Every object with an identity has an opaque \`id\` (a client cache's key): ask for it, and
# fetch any object again with node(id:), e.g.
#   { node(id: "Q2l0eTo0MTA4MDA") { id ... on City { code name } } }
# Cities come in pages of at most 100: pass pageInfo.endCursor as \`after\` for the next.
query Dashboard {
  summary {
    period
    byType {
      branchType
      citiesReporting
      branchCountSum
      eligibleCountSum
      coverageRate
      provinceReport { id total note }
      fullCoverageCities { id code name }
    }
  }
  cities(first: 100) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      code
      name
      nameEn
      kind
      coverage {
        id
        branchType
        period
        branchCount
        eligibleCount
        newBranches
        coverageRate
        rateIsStated
        rateScope
        source
        version
      }
      pilotPrograms { id code name }
    }
  }
}
`;

const historyQuery = `# One city's figures over the years, and who changed them.
query CityHistory($code: ID!) {
  city(code: $code) {
    id
    name
    nameEn
    history {
      id
      branchType
      period
      branchCount
      eligibleCount
      newBranches
      coverageRate
      rateIsStated
      rateScope
      source
      version
    }
  }
  revisions(cityCode: $code, first: 10) {
    nodes { id number at actor { name role } note before after }
  }
}
`;

const subscriptionQuery = `# Every committed change of a coverage record, as it happens (over /graphql/ws).
# Run it, then save a figure (the "Staff update" tab, or the /staff page): the event appears here.
subscription CoverageChanged {
  coverageChanged {
    coverage {
      id
      city { code name }
      branchType
      period
      branchCount
      eligibleCount
      coverageRate
      source
      version
    }
    revision { id number at actor { name role } note }
  }
}
`;

const updateQuery = `# A city office's yearly figures. Put your session or token in the Headers editor below
# in place of cov_PASTE_YOUR_TOKEN (as shipped, the server answers UNAUTHENTICATED).
# Read the record's version first (the Dashboard tab) and send it as expectedVersion
# (0 creates a record); a stale one answers VERSION_CONFLICT with the stored record.
mutation UpdateCoverage($input: UpdateCoverageInput!) {
  updateCoverage(input: $input) {
    coverage { id version branchCount eligibleCount coverageRate source updatedBy }
    revision { id number at before after }
    userErrors { field message code }
  }
}
`;

const updateVariables = JSON.stringify({
  input: {
    cityCode: '410800',
    branchType: 'ENTERPRISE',
    period: 2023,
    branchCount: 250,
    eligibleCount: 400,
    source: 'Jiaozuo annual return 2023',
    note: 'yearly figures',
    expectedVersion: 1,
  },
}, null, 2);

const wsScheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
const fetcher = GraphiQL.createFetcher({
  url: '/graphql',
  subscriptionUrl: wsScheme + window.location.host + '/graphql/ws',
});

ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultTabs: [
      { query: dashboardQuery },
      { query: historyQuery, variables: JSON.stringify({ code: '410800' }, null, 2) },
      { query: subscriptionQuery },
      { query: updateQuery, variables: updateVariables, headers: '{\n  "Authorization": "Bearer cov_PASTE_YOUR_TOKEN"\n}' },
    ],
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);

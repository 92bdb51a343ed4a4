-- wrk script: POST the dashboard query (every city with its latest coverage and programmes).
-- No per-response Lua callback: it would cost the load generator more than the server.
-- load.sh checks one response for errors before the run; wrk counts non-2xx answers itself.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"query":"{ cities(first: 100) { totalCount nodes { code name nameEn kind coverage { branchType period branchCount eligibleCount newBranches coverageRate rateIsStated rateScope source updatedAt } pilotPrograms { code name } } } }"}]]

-- Fragment {org_provider}: the provider of @org.
SELECT org, argMax(provider, version) AS provider
FROM orgs
WHERE org = @org
GROUP BY org

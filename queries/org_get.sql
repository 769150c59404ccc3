SELECT
    org,
    argMax(provider, version) AS provider_,
    argMax(api_url, version) AS api_url_,
    argMax(credentials, version) AS credentials_,
    argMax(account_id, version) AS account_id_,
    argMax(webhook_token, version) AS webhook_token_,
    argMax(transcripts, version) AS transcripts_,
    argMax(settings, version) AS settings_
FROM orgs
WHERE org = ?
GROUP BY org

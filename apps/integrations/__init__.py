"""Connectors: monitoring and ticketing systems push measurements in their own formats.

Two webhook receivers turn vendor payloads into the measurements of
``apps.measurements`` (through its ingestion services, so every rule of §6 holds:
atomic, idempotent by ``external_id``, checked):

===========================================  ===================================================
endpoint                                     what
===========================================  ===================================================
``POST /api/v1/integrations/alertmanager/``  Prometheus Alertmanager ``webhook_config`` body
                                             (version 4) -> an outage per alert (rules:
                                             ``apps.integrations.alertmanager``)
``POST /api/v1/integrations/jira/``          Jira / JSM webhook (``jira:issue_created``,
                                             ``jira:issue_updated``, ``comment_created``) -> the
                                             issue's ticket, rebuilt from everything received
                                             (rules: ``apps.integrations.jira``)
``POST /api/v1/integrations/jira/``          the same, authenticated by the connector's secret,
``{connector}/{secret}/``                    for Jira's own webhooks (no custom headers)
===========================================  ===================================================

Configuration is per tenant, in the admin (Connectors): a ``Connector`` per source
(kind, settings as plain fields) with ``ServiceMapping`` rows (a label value, a
Jira component name or project key -> one of our services). ``JiraIssue`` rows keep
what each Jira issue's events told, read-only in the admin.

Authentication
--------------

Both receivers take a provider staff user's API token (``Authorization: Token …``)
or a session, like the rest of the API; customers get 403, another tenant's token
401. Alertmanager sends the header (``http_config.authorization``). Jira's
webhooks cannot send headers, so a Jira connector also has a **secret URL**
``/api/v1/integrations/jira/<connector id>/<secret>/``: the secret is compared in
constant time, a wrong one is a 404, and events that arrive through it are written
as the connector's ``run_as`` user (provider staff). We chose this over accepting
a user's API token as ``?token=``: URLs end up in Jira's configuration (visible to
every Jira admin) and in proxy and access logs, and a user token there would open
the whole API with that user's rights; a connector secret can only post events to
that one connector, is rotated without touching anyone's token (admin action
"Rotate the secret"), and stops working when the connector is deactivated.
"""

"""The staff inbox: a server-rendered web app where staff complete their tasks and
auditors read cases. A thin client of CaseClient, like the CLI."""

"""dlt's side of `bench/vs-dlt`: one event's attendees from a Cvent REST API into SQLite.

Run by `bench/vs-dlt` with the Python of its virtual environment (where dlt is installed); it
can be run alone against any Cvent REST base URL:

    CVENT_CLIENT_SECRET=... python bench/dlt_attendees.py --base-url http://127.0.0.1:PORT/ea \
        --client-id ID --event-id UUID --workdir /tmp/dlt-run

It uses dlt's own `rest_api` source as its documentation shows it: OAuth2 client credentials
against `{base}/oauth2/token`, `GET {base}/attendees?filter=event.id eq '…'&limit=200`, paging
by `paging.nextToken` passed back as `token`, records under `data`. dlt's HTTP client retries a
429 with exponential backoff, which is how it meets a rate limit. The only addition is the
token request: Cvent authenticates the client with an HTTP Basic header, which dlt's stock
`OAuth2ClientCredentials` does not send (it puts the secret in the form).

Prints one JSON line: {"rows": <attendees loaded>, "tables": <tables created>}.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import dlt
from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from dlt.sources.rest_api import rest_api_source


@configspec
class CventClientCredentials(OAuth2ClientCredentials):
    """Client credentials with the client authenticated by Basic, as Cvent requires."""

    def build_access_token_request(self):
        return {
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "data": {"grant_type": "client_credentials", "client_id": self.client_id},
            "auth": (self.client_id, self.client_secret),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="Cvent REST base URL, ending in /ea")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--event-id", required=True, help="the event's id (a UUID)")
    parser.add_argument("--workdir", required=True, help="folder for the SQLite file and dlt state")
    parser.add_argument("--limit", type=int, default=200, help="page size (Cvent allows 1 to 200)")
    args = parser.parse_args()
    secret = os.environ.get("CVENT_CLIENT_SECRET")
    if not secret:
        print("set CVENT_CLIENT_SECRET to the client secret", file=sys.stderr)
        return 2

    # SQLite takes one writer at a time: dlt's parallel load jobs (20 by default) wait on each
    # other's locks and can stall for good (seen here at 50,000 attendees), so load one table
    # at a time.
    os.environ.setdefault("LOAD__WORKERS", "1")

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    base = args.base_url.rstrip("/")
    auth = CventClientCredentials(
        access_token_url=f"{base}/oauth2/token",
        client_id=args.client_id,
        client_secret=secret,
    )
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{base}/",
                "auth": auth,
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "paging.nextToken",
                    "cursor_param": "token",
                },
            },
            "resources": [
                {
                    "name": "attendees",
                    "primary_key": "id",
                    "write_disposition": "replace",
                    "endpoint": {
                        "path": "attendees",
                        "params": {
                            "filter": f"event.id eq '{args.event_id}'",
                            "limit": args.limit,
                        },
                        "data_selector": "data",
                    },
                }
            ],
        }
    )
    database = workdir / "attendees.sqlite"
    pipeline = dlt.pipeline(
        pipeline_name="cvent_attendees",
        pipelines_dir=str(workdir / "dlt-state"),
        destination=dlt.destinations.sqlalchemy(credentials=f"sqlite:///{database}"),
        dataset_name="main",
    )
    pipeline.run(source)
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT COUNT(*) FROM attendees")[0][0]
    tables = [
        name
        for name in pipeline.default_schema.data_table_names()
        if name == "attendees" or name.startswith("attendees__")
    ]
    print(json.dumps({"rows": rows, "tables": len(tables)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

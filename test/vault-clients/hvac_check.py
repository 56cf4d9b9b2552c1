"""Drives Custos's Vault API with hvac, the Python Vault client, as an application would.

Run by test/vault-clients.e2e-spec.ts with Debian's /usr/bin/python3 (python3-hvac, installed by
.ci/run). Reads its inputs from the environment, performs every step even when an earlier one
fails, and prints one JSON object: per step either {"ok": true, "value": ...} or
{"ok": false, "error": <exception class>, "message": ..., "errors": ...}.

Environment:
  CUSTOS_VAULT_ADDR       http://127.0.0.1:<port>
  CUSTOS_VAULT_TOKEN      a Custos API key used as the Vault token
  CUSTOS_ROLE_ID          AppRole role_id (the service account)
  CUSTOS_SECRET_ID        AppRole secret_id (one of its API keys)
  CUSTOS_KV_PATH          a path of the `secret` mount the token may read and write, at version 1
  CUSTOS_KV_NEW_DATA      JSON object written as version 2 with cas=1
  CUSTOS_FORBIDDEN_PATH   an existing credential's path the token's grants do not cover (and,
                          with "-hvac-new" appended, a free path they do not cover either); its
                          folder is one no grant of the token reaches, for a refused list
"""

import importlib.metadata
import inspect
import json
import os
import sys

try:
    import hvac
except ImportError as error:  # the jest test turns this into a clear failure
    print(json.dumps({"importError": str(error), "python": sys.executable}))
    sys.exit(3)

ADDR = os.environ["CUSTOS_VAULT_ADDR"]
TOKEN = os.environ["CUSTOS_VAULT_TOKEN"]
ROLE_ID = os.environ["CUSTOS_ROLE_ID"]
SECRET_ID = os.environ["CUSTOS_SECRET_ID"]
KV_PATH = os.environ["CUSTOS_KV_PATH"]
KV_NEW_DATA = json.loads(os.environ["CUSTOS_KV_NEW_DATA"])
FORBIDDEN_PATH = os.environ["CUSTOS_FORBIDDEN_PATH"]
FORBIDDEN_NEW_PATH = FORBIDDEN_PATH + "-hvac-new"
MOUNT = "secret"


def step(work):
    try:
        return {"ok": True, "value": work()}
    except Exception as error:  # noqa: BLE001 - every outcome is reported, none hidden
        return {
            "ok": False,
            "error": type(error).__name__,
            "message": str(error),
            "errors": getattr(error, "errors", None),
        }


# hvac 1.0 added raise_on_deleted_version (and warns when it is left out); Debian bookworm's
# 0.11.2 does not have it, and passing it there is a TypeError.
READ_PARAMS = inspect.signature(hvac.Client(url=ADDR, token=TOKEN).secrets.kv.v2.read_secret_version).parameters
READ_EXTRA = {"raise_on_deleted_version": True} if "raise_on_deleted_version" in READ_PARAMS else {}


def read(client, path, version=None):
    answer = client.secrets.kv.v2.read_secret_version(
        path=path, version=version, mount_point=MOUNT, **READ_EXTRA
    )
    return {"data": answer["data"]["data"], "version": answer["data"]["metadata"]["version"]}


def write(client, path, data, cas):
    answer = client.secrets.kv.v2.create_or_update_secret(
        path=path, secret=data, cas=cas, mount_point=MOUNT
    )
    return {"version": answer["data"]["version"]}


def list_keys(client, folder):
    answer = client.secrets.kv.v2.list_secrets(path=folder, mount_point=MOUNT)
    return answer["data"]["keys"]


def folder_of(path):
    return path.rsplit("/", 1)[0]


def health(client):
    answer = client.sys.read_health_status(method="GET")
    # A dict on 200; hvac hands back the raw response for any other status.
    if isinstance(answer, dict):
        return answer
    return {"statusCode": answer.status_code, "body": answer.text}


def health_head(client):
    # hvac's default: HEAD, no body; the status code is the answer.
    return {"statusCode": client.sys.read_health_status().status_code}


def approle_then_read():
    client = hvac.Client(url=ADDR)
    login = client.auth.approle.login(role_id=ROLE_ID, secret_id=SECRET_ID)
    token = login["auth"]["client_token"]
    return {
        "clientTokenIsString": isinstance(token, str) and len(token) > 0,
        "clientUsesToken": client.token == token,
        "isAuthenticated": client.is_authenticated(),
        "read": read(client, KV_PATH),
    }


def main():
    client = hvac.Client(url=ADDR, token=TOKEN)
    stranger = hvac.Client(url=ADDR, token="hvs.not-a-custos-token")
    results = {
        "hvacVersion": importlib.metadata.version("hvac"),
        "readPassesRaiseOnDeletedVersion": bool(READ_EXTRA),
        "isAuthenticated": step(client.is_authenticated),
        "strangerIsAuthenticated": step(stranger.is_authenticated),
        "health": step(lambda: health(client)),
        "healthHead": step(lambda: health_head(client)),
        "readV1": step(lambda: read(client, KV_PATH)),
        "writeCas1": step(lambda: write(client, KV_PATH, KV_NEW_DATA, 1)),
        "writeCasStale": step(lambda: write(client, KV_PATH, {"stale": "write"}, 1)),
        "readLatest": step(lambda: read(client, KV_PATH)),
        "readVersion1": step(lambda: read(client, KV_PATH, version=1)),
        "approle": step(approle_then_read),
        "forbiddenRead": step(lambda: read(client, FORBIDDEN_PATH)),
        "forbiddenWrite": step(lambda: write(client, FORBIDDEN_PATH, {"intruder": "x"}, None)),
        "forbiddenCreate": step(lambda: write(client, FORBIDDEN_NEW_PATH, {"intruder": "x"}, None)),
        "list": step(lambda: list_keys(client, folder_of(KV_PATH))),
        "forbiddenList": step(lambda: list_keys(client, folder_of(FORBIDDEN_PATH))),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()

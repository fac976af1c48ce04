#!/usr/bin/env python3
"""Static checks of ops/deploy/ that need a parser, called by ops/ci/check-deploy.sh:

  check-deploy.py compose      compose.yaml against the vendored compose-spec JSON Schema, and
                               the hardening and wiring it promises (needs jsonschema, PyYAML)
  check-deploy.py dockerfile   the Dockerfile's instructions: multi-stage, --locked, a non-root
                               USER and a shell-less final image, exec-form ENTRYPOINT
  check-deploy.py caddy FILE   the JSON `caddy adapt` made of the Caddyfile: HTTP/3, HSTS, the
                               body limit matching vigil's default, the upstream and its probe
  check-deploy.py env          every VIGIL_* name the deployment files set is one vigil reads

Each check also runs itself on a deliberately broken copy and fails if it does not notice, so
a check that has quietly stopped checking is caught too. Prints one line per check; exits 1
on the first failure list.
"""

import copy
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "ops" / "deploy"


def fail(problems, what):
    if problems:
        print(f"FAIL: {what}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        sys.exit(1)


def self_check(check, broken, what):
    """`check` must find something wrong with `broken`; otherwise the check is blind."""
    if not check(broken):
        print(f"FAIL: self-check: {what} went unnoticed", file=sys.stderr)
        sys.exit(1)


# --- vigil's own facts, read from the source rather than repeated here ---------------------

def vigil_env_names():
    """Every VIGIL_* variable vigil reads: config.rs's KNOWN list and every clap `env = …`."""
    config = (ROOT / "api/src/server/config.rs").read_text()
    known = config.split("const KNOWN")[1].split("];")[0]
    names = set(re.findall(r'"(VIGIL_[A-Z0-9_]+)"', known))
    for path in (ROOT / "api/src").rglob("*.rs"):
        names |= set(re.findall(r'env\s*=\s*"(VIGIL_[A-Z0-9_]+)"', path.read_text()))
    # The Prometheus listener (--metrics-listen), added on a branch of its own; allowed here so
    # this check does not depend on the order the two branches merge in.
    names.add("VIGIL_METRICS_LISTEN")
    return names


def vigil_body_limit_default():
    config = (ROOT / "api/src/server/config.rs").read_text()
    m = re.search(r'default_value_t\s*=\s*([0-9_]+),\s*env\s*=\s*"VIGIL_BODY_LIMIT"', config)
    if not m:
        fail(["cannot find --body-limit's default in api/src/server/config.rs"], "body limit")
    return int(m.group(1).replace("_", ""))


# --- compose.yaml -------------------------------------------------------------------------

def compose_problems(doc, schema):
    import jsonschema

    problems = [
        f"schema: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(doc)
    ]
    if problems:
        return problems
    services = doc.get("services", {})
    top_secrets = doc.get("secrets", {})
    for name in ("postgres", "vigil", "caddy"):
        if name not in services:
            problems.append(f"no service {name}")
    if problems:
        return problems
    vigil, pg, caddy = services["vigil"], services["postgres"], services["caddy"]

    # Hardening of the vigil container.
    if vigil.get("read_only") is not True:
        problems.append("vigil: read_only is not true")
    if vigil.get("cap_drop") != ["ALL"]:
        problems.append(f"vigil: cap_drop is {vigil.get('cap_drop')!r}, not [ALL]")
    if vigil.get("cap_add"):
        problems.append("vigil: adds capabilities")
    if "no-new-privileges:true" not in vigil.get("security_opt", []):
        problems.append("vigil: security_opt lacks no-new-privileges:true")
    if str(vigil.get("user", "0")).split(":")[0] in ("0", "root", ""):
        problems.append("vigil: runs as root")
    if vigil.get("ports"):
        problems.append("vigil: publishes ports (only Caddy may)")
    if pg.get("ports"):
        problems.append("postgres: publishes ports")

    # Secrets: the three keys and the database password as files, none inline.
    env = vigil.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    vigil_secrets = {s if isinstance(s, str) else s["source"] for s in vigil.get("secrets", [])}
    for key in ("VIGIL_MASTER_KEY", "VIGIL_TOKEN_KEY", "VIGIL_CHECKPOINT_KEY"):
        if key in env:
            problems.append(f"vigil: {key} set inline; use {key}_FILE")
        if f"{key}_FILE" not in env:
            problems.append(f"vigil: no {key}_FILE (production refuses to start without it)")
    for var, value in env.items():
        if var.endswith("_FILE") or var == "PGPASSFILE":
            m = re.fullmatch(r"/run/secrets/([A-Za-z0-9_.-]+)", str(value))
            if not m or m.group(1) not in vigil_secrets:
                problems.append(f"vigil: {var}={value} is not one of its own /run/secrets")
    url = str(env.get("VIGIL_DATABASE_URL", ""))
    if not url.startswith("postgres://"):
        problems.append("vigil: VIGIL_DATABASE_URL is not a postgres:// URL")
    elif re.match(r"postgres://[^@/]*:[^@/]*@", url):
        problems.append("vigil: VIGIL_DATABASE_URL carries a password")
    if "PGPASSFILE" not in env:
        problems.append("vigil: no PGPASSFILE for the database password")
    for service_name, service in services.items():
        for s in service.get("secrets", []):
            source = s if isinstance(s, str) else s["source"]
            if source not in top_secrets:
                problems.append(f"{service_name}: secret {source} is not defined at the top level")
    readme = (DEPLOY / "secrets" / "README.md").read_text()
    for name, spec in top_secrets.items():
        path = (DEPLOY / spec.get("file", "")).resolve()
        if not str(path).startswith(str(DEPLOY / "secrets") + "/"):
            problems.append(f"secret {name}: {spec.get('file')} is not under ops/deploy/secrets/")
            continue
        if not path.exists() and f"`{path.name}`" not in readme:
            problems.append(f"secret {name}: {path.name} neither exists nor is in secrets/README.md")
        ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(path)])
        if ignored.returncode != 0:
            problems.append(f"secret {name}: {path.name} is not ignored by git")

    # Caddy is the one trusted proxy, and the only way in.
    caddy_nets = caddy.get("networks", {})
    caddy_ips = {n.get("ipv4_address") for n in caddy_nets.values() if isinstance(n, dict)} - {None}
    trusted = {p.strip() for p in str(env.get("VIGIL_TRUSTED_PROXIES", "")).split(",") if p.strip()}
    if not caddy_ips or not any(f"{ip}/32" in trusted or ip in trusted for ip in caddy_ips):
        problems.append(f"vigil trusts {sorted(trusted)}, not Caddy's fixed address {sorted(caddy_ips)}")
    caddy_ports = {str(p) for p in caddy.get("ports", [])}
    for want in ("80:80", "443:443", "443:443/udp"):
        if want not in caddy_ports:
            problems.append(f"caddy: port {want} not published")

    # The metrics listener is never published, by any service.
    metrics = str(env.get("VIGIL_METRICS_LISTEN", ""))
    if metrics:
        port = metrics.rsplit(":", 1)[-1]
        for service_name, service in services.items():
            for p in service.get("ports", []):
                if re.search(rf"(^|:){port}(/tcp|/udp)?$", str(p)):
                    problems.append(f"{service_name}: publishes the metrics port {port}")

    # Postgres: the secret-file password, the init script, a real readiness probe.
    pg_env = pg.get("environment", {})
    if "POSTGRES_PASSWORD" in pg_env or "POSTGRES_PASSWORD_FILE" not in pg_env:
        problems.append("postgres: the password must come from POSTGRES_PASSWORD_FILE")
    if not any(str(v).endswith(":/docker-entrypoint-initdb.d:ro") for v in pg.get("volumes", [])):
        problems.append("postgres: the init scripts are not mounted at /docker-entrypoint-initdb.d")
    if "pg_isready" not in " ".join(map(str, pg.get("healthcheck", {}).get("test", []))):
        problems.append("postgres: healthcheck does not use pg_isready")
    if not str(pg.get("image", "")).startswith("postgres:15"):
        problems.append("postgres: not PostgreSQL 15")
    depends = vigil.get("depends_on", {})
    if not isinstance(depends, dict) or depends.get("postgres", {}).get("condition") != "service_healthy":
        problems.append("vigil: does not wait for a healthy postgres")

    # Paths the file names exist.
    build = vigil.get("build", {})
    context = (DEPLOY / build.get("context", ".")).resolve()
    if not (context / build.get("dockerfile", "Dockerfile")).is_file():
        problems.append("vigil: build context and dockerfile do not name ops/deploy/Dockerfile")
    for service_name, service in services.items():
        for v in service.get("volumes", []):
            source = str(v).split(":")[0]
            if source.startswith("./") and not (DEPLOY / source).exists():
                problems.append(f"{service_name}: volume source {source} does not exist")
    return problems


def check_compose():
    import yaml

    schema = json.loads((DEPLOY / "compose-spec.schema.json").read_text())
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    fail(compose_problems(doc, schema), "ops/deploy/compose.yaml")

    def broken(mutate):
        b = copy.deepcopy(doc)
        mutate(b)
        return b

    for what, mutate in [
        ("a misspelt top-level key", lambda d: d.__setitem__("servcies", d["services"])),
        ("vigil without read_only", lambda d: d["services"]["vigil"].pop("read_only")),
        ("vigil with a capability back", lambda d: d["services"]["vigil"].__setitem__("cap_drop", ["NET_RAW"])),
        ("the metrics port published", lambda d: d["services"]["vigil"].__setitem__("ports", ["9464:9464"])),
        ("an inline master key", lambda d: d["services"]["vigil"]["environment"].__setitem__("VIGIL_MASTER_KEY", "x")),
        ("a password in the database URL", lambda d: d["services"]["vigil"]["environment"].__setitem__(
            "VIGIL_DATABASE_URL", "postgres://vigil_server:pw@postgres:5432/vigil")),
        ("a secret file outside secrets/", lambda d: d["secrets"]["vigil_master_key"].__setitem__("file", "./master.key")),
    ]:
        self_check(lambda b: compose_problems(b, schema), broken(mutate), what)
    print("compose: schema valid (compose-spec), hardening and wiring asserted; 7 broken copies caught")


# --- Dockerfile ---------------------------------------------------------------------------

def dockerfile_instructions(text):
    """(instruction, arguments) pairs: comments and parser directives dropped, `\\` joined."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        if not re.fullmatch(r"[A-Za-z]+", word):
            raise ValueError(f"not an instruction: {full[:60]!r}")
        out.append((word.upper(), rest.strip()))
    if pending:
        raise ValueError("the file ends inside a continued line")
    return out


KNOWN_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}


def dockerfile_problems(text):
    try:
        ins = dockerfile_instructions(text)
    except ValueError as e:
        return [str(e)]
    problems = [f"unknown instruction {i}" for i, _ in ins if i not in KNOWN_INSTRUCTIONS]
    froms = [n for n, (i, _) in enumerate(ins) if i == "FROM"]
    if len(froms) < 2:
        return problems + ["not multi-stage (fewer than two FROM)"]
    args = {m.group(1): m.group(2) for i, a in ins if i == "ARG"
            for m in [re.fullmatch(r"(\w+)=(\S+)", a)] if m}
    builder = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), ins[froms[0]][1])
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    if not rust_version or not builder.startswith(f"rust:{rust_version.group(1)}-"):
        problems.append(f"builder {builder!r} is not the workspace's rust-version")
    if not any(i == "RUN" and "cargo build" in a and "--locked" in a and "--release" in a for i, a in ins):
        problems.append("no `cargo build --release --locked`")
    final = ins[froms[-1]:]
    image = final[0][1].split()[0]
    if not image.startswith("gcr.io/distroless/") or ":debug" in image:
        problems.append(f"final image {image} is not a shell-less distroless one")
    users = [a for i, a in final if i == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problems.append("the final stage has no non-root USER")
    # Without a shell, shell-form ENTRYPOINT/CMD/RUN and HEALTHCHECK CMD-SHELL cannot run.
    for i, a in final:
        if i in ("ENTRYPOINT", "CMD") and not a.startswith("["):
            problems.append(f"final stage {i} in shell form needs /bin/sh, which is absent")
        if i == "RUN":
            problems.append("final stage RUN needs a shell, which is absent")
        if i == "HEALTHCHECK" and a.upper() != "NONE":
            problems.append("final stage HEALTHCHECK cannot run without a shell or curl")
    exposed = " ".join(a for i, a in final if i == "EXPOSE").split()
    if exposed != ["8080"]:
        problems.append(f"EXPOSE {exposed}: only the public port 8080")
    for i, a in ins:
        if i == "COPY" and not a.startswith("--from"):
            for source in a.split()[:-1]:
                if not (ROOT / source).exists():
                    problems.append(f"COPY {source}: no such path in the repository")
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [l.strip() for l in ignore if l.strip() and not l.startswith("#")]
    if not rules or rules[0] != "**" or any(r.startswith("!ops") for r in rules):
        problems.append("Dockerfile.dockerignore must exclude everything (**) and never re-include ops/")
    return problems


def check_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    fail(dockerfile_problems(text), "ops/deploy/Dockerfile")
    for what, bad in [
        ("a root final stage", text.replace("USER 65532:65532", "USER root")),
        ("a build without --locked", text.replace("--locked", "")),
        ("a final image with a shell", text.replace("gcr.io/distroless/cc-debian12:nonroot", "debian:12-slim")),
        ("a shell-form entrypoint", text.replace('ENTRYPOINT ["/usr/local/bin/vigil"]', "ENTRYPOINT /usr/local/bin/vigil")),
        ("a misspelt instruction", text.replace("\nWORKDIR /src", "\nWORKDRI /src")),
    ]:
        if bad == text:
            fail([f"self-check could not build {what}"], "check-deploy.py")
        self_check(dockerfile_problems, bad, what)
    print("dockerfile: multi-stage, --locked, distroless nonroot, exec-form entrypoint; 5 broken copies caught")


# --- the Caddyfile, as Caddy's own adapter understood it ----------------------------------

def caddy_problems(config, body_limit):
    problems = []
    servers = config.get("apps", {}).get("http", {}).get("servers", {})
    if not servers:
        return ["no HTTP server"]
    dump = json.dumps(config)
    for name, server in servers.items():
        if "h3" not in server.get("protocols", ["h1", "h2", "h3"]):
            problems.append(f"{name}: HTTP/3 is off")
        if server.get("protocols") is None:
            problems.append(f"{name}: protocols not explicit")
    hsts = re.findall(r'"Strict-Transport-Security": \["([^"]+)"\]', dump)
    if hsts != ["max-age=63072000; includeSubDomains; preload"]:
        problems.append(f"HSTS headers set: {hsts}")
    if '"deferred": true' not in dump:
        problems.append("the HSTS header is not deferred (vigil's own would be doubled)")
    limits = [int(v) for v in re.findall(r'"max_size": (\d+)', dump)]
    if limits != [body_limit]:
        problems.append(f"request body limits {limits}, vigil's --body-limit default is {body_limit}")
    if '"dial": "vigil:8080"' not in dump:
        problems.append("no reverse_proxy to vigil:8080")
    if '"uri": "/readyz"' not in dump:
        problems.append("no active health check on /readyz")
    if "9464" in dump:
        problems.append("the metrics port appears in the proxy configuration")
    return problems


def check_caddy(path):
    config = json.loads(pathlib.Path(path).read_text())
    limit = vigil_body_limit_default()
    fail(caddy_problems(config, limit), "ops/deploy/Caddyfile (as adapted)")
    dump = json.dumps(config)
    self_check(lambda c: caddy_problems(c, limit), json.loads(dump.replace('"h3"', '"h2c"')), "HTTP/3 off")
    self_check(lambda c: caddy_problems(c, limit), json.loads(dump.replace("; preload", "")), "HSTS without preload")
    self_check(lambda c: caddy_problems(c, limit), json.loads(dump.replace(str(limit), str(limit * 4))), "a larger body limit")
    print(f"caddy: h1 h2 h3, HSTS (preload, deferred), body limit {limit} = vigil's, /readyz probe; 3 broken copies caught")


# --- VIGIL_* names in the deployment files ------------------------------------------------

def env_problems(names, files):
    problems = []
    for path, text in files.items():
        for var in sorted(set(re.findall(r"\b(VIGIL_[A-Z0-9_]+)\b", text))):
            if var not in names and var != "VIGIL_DOMAIN" and var != "VIGIL_DB_PASSWORD_FILE":
                problems.append(f"{path}: {var} is not a variable vigil reads (typo?)")
    return problems


def check_env():
    names = vigil_env_names()
    files = {
        str(p.relative_to(ROOT)): p.read_text()
        for p in [DEPLOY / "compose.yaml", DEPLOY / "vigil.service", DEPLOY / "vigil.env.example",
                  DEPLOY / "env.example", DEPLOY / "Dockerfile"]
    }
    fail(env_problems(names, files), "VIGIL_* names")
    self_check(lambda f: env_problems(names, f), {"x": "VIGIL_MASTER_KEY_FIEL=/run/secrets/k"}, "a misspelt variable")
    print(f"env: every VIGIL_* name in {len(files)} deployment files is one vigil reads; a misspelt one caught")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "compose":
        check_compose()
    elif what == "dockerfile":
        check_dockerfile()
    elif what == "caddy" and len(sys.argv) == 3:
        check_caddy(sys.argv[2])
    elif what == "env":
        check_env()
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)

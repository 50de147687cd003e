"""The deployment files, read and validated without a Docker engine.

docker-compose.yml is validated against the Compose Specification schema that the
check-jsonschema package ships (`--builtin-schema vendor.compose-spec`), as written and
again after interpolating the values of .env.example, the way `docker compose config`
would. The rest are the promises the deployment makes: Neo4j 5 with a cypher-shell
health check, the start order, published ports, named volumes, api replicas sharing their
rate limits through a Redis without persistence, a .env.example for every
variable, the CPU build of torch in the Dockerfile, and a Browser style and ready queries
that cover the whole graph model.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdss.settings import load_settings
from cdss.types import EdgeType, NodeLabel

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
STYLE = ROOT / "neo4j-browser" / "style.grass"
FAVORITES = ROOT / "neo4j-browser" / "favorites.cypher"
GUIDE = ROOT / "neo4j-browser" / "guide.html"

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# -- helpers ---------------------------------------------------------------------------------------------------------


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """Run check-jsonschema's own CLI with the Compose Specification schema it bundles (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}, $NAME, $$.
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariableError(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation, for the forms the Compose Specification defines (no nesting)."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        is_set, non_empty = name in env, bool(env.get(name))
        if op == ":-":
            return env[name] if non_empty else arg
        if op == "-":
            return env[name] if is_set else arg
        if (op == ":?" and not non_empty) or (op == "?" and not is_set):
            raise MissingVariableError(f"{name}: {arg}")
        if op == ":+":
            return arg if non_empty else ""
        if op == "+":
            return arg if is_set else ""
        return env.get(name, "")

    return VARIABLE.sub(substitute, text)


def walk_strings(node: Any):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)


def interpolate_all(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_all(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_all(value, env) for value in node]
    return node


def variable_references(compose: dict) -> list[tuple[str, str | None, str]]:
    """(name, operator, argument) of every variable in the file's values; `$$` escapes are not variables."""
    found = []
    for text in walk_strings(compose):
        for match in VARIABLE.finditer(text):
            if not match["escaped"]:
                found.append((match["name"] or match["bare"], match["op"], match["arg"] or ""))
    return found


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        assert sep, f"{path.name}: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command_text(value: str | list[str] | None) -> str:
    return " ".join(value) if isinstance(value, list) else value or ""


def container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).rsplit(":", 1)[-1].split("/")[0]))
    return ports


def host_ports(service: dict) -> set[int]:
    return {int(str(entry).split(":")[-2]) for entry in service.get("ports", []) if str(entry).count(":") >= 1}


def named_mounts(service: dict) -> dict[str, str]:
    """target -> named volume, for the short `name:/path[:mode]` syntax."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, _, rest = str(entry).partition(":")
        if source and not source.startswith((".", "/", "~", "$")):
            mounts[rest.split(":")[0]] = source
    return mounts


def healthcheck_text(service: dict) -> str:
    return command_text(service.get("healthcheck", {}).get("test"))


def parse_grass(text: str) -> dict[str, dict[str, str]]:
    """Neo4j Browser's own GraSS reader (grassUtils.parseGrassCSS), strict about what it would drop.

    Browser skips every declaration that does not split into exactly one `key: value` pair, and
    has no comment syntax: a comment would become part of the next selector.
    """
    rules: dict[str, str] = {}
    keyword, props = "", ""
    inside_string = inside_props = inside_binding = False
    for char in text:
        if char == "{" and not inside_string:
            inside_binding, inside_props = (True, inside_props) if inside_props else (False, True)
            continue
        if char == "}" and not inside_string:
            if inside_binding:
                inside_binding = False
            else:
                inside_props = False
                rules[keyword] = props
                keyword, props = "", ""
            continue
        if char in "'\"":
            inside_string = not inside_string
            continue
        if inside_props:
            props += char
        elif not char.isspace():
            keyword += char
    parsed = {}
    for selector, body in rules.items():
        declarations = {}
        for declaration in body.split(";"):
            if not declaration.strip():
                continue
            parts = declaration.split(":")
            assert len(parts) == 2, f"{selector}: Browser would drop {declaration.strip()!r}"
            declarations[parts[0].strip()] = parts[1].strip()
        parsed[selector] = declarations
    return parsed


def favorite_blocks() -> list[dict[str, Any]]:
    """Each `// name:` block of favorites.cypher: name, comment lines, :param examples, query."""
    blocks = []
    for chunk in re.split(r"^// name:", FAVORITES.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
        name, *lines = chunk.strip().splitlines()
        comments = [line[2:].strip() for line in lines if line.startswith("//")]
        query = "\n".join(line for line in lines if not line.startswith("//")).strip()
        params = {m[1] for c in comments if (m := re.match(r":param\s+(\w+)\s*=>", c))}
        blocks.append({"name": name.strip(), "comments": comments, "params": params, "query": query})
    return blocks


def labels_in(query: str) -> set[str]:
    return {label for group in re.findall(r"\(\s*\w*\s*:\s*([A-Za-z|]+)", query) for label in group.split("|") if label}


def relationship_types_in(query: str) -> set[str]:
    return {kind for group in re.findall(r"\[\s*\w*\s*:\s*([A-Z_|]+)", query) for kind in group.split("|") if kind}


def normalise(query: str) -> str:
    return " ".join(query.split())


# -- fixtures --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def resolved(compose, env_example) -> dict:
    """The compose file as `docker compose config` would see it with .env copied from .env.example."""
    return interpolate_all(compose, env_example)


@pytest.fixture(scope="module")
def services(resolved) -> dict[str, dict]:
    return resolved["services"]


# -- docker-compose.yml against the Compose Specification ---------------------------------------------------------


def test_compose_file_matches_the_compose_specification():
    result = validate_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_matches_the_specification_after_interpolation(resolved, tmp_path):
    path = tmp_path / "docker-compose.resolved.yml"
    path.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    result = validate_compose(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_compose_file(compose, tmp_path):
    broken = yaml.safe_load(yaml.safe_dump(compose))
    broken["services"]["api"]["depends_on"]["graph-init"]["condition"] = "service_finished"
    broken["services"]["neo4j"]["healthchek"] = broken["services"]["neo4j"].pop("healthcheck")
    path = tmp_path / "docker-compose.broken.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = validate_compose(path)
    assert result.returncode != 0
    assert "service_finished" in result.stdout and "healthchek" in result.stdout


# -- what the deployment promises ------------------------------------------------------------------------------------


def test_neo4j_is_version_5_community_with_a_cypher_shell_health_check(compose, services):
    neo4j = services["neo4j"]
    assert neo4j["image"] == "neo4j:5-community"
    probe = compose["services"]["neo4j"]["healthcheck"]["test"]
    assert probe[0] == "CMD" and probe[1] == "cypher-shell" and probe[-1] == "RETURN 1"
    assert "${NEO4J_USER" in probe[probe.index("-u") + 1] and "${NEO4J_PASSWORD" in probe[probe.index("-p") + 1]


def test_neo4j_credentials_come_from_the_environment_and_are_required(compose, env_example):
    auth = compose["services"]["neo4j"]["environment"]["NEO4J_AUTH"]
    assert re.fullmatch(r"\$\{NEO4J_USER:\?[^}]+\}/\$\{NEO4J_PASSWORD:\?[^}]+\}", auth), auth
    with pytest.raises(MissingVariableError, match="NEO4J_PASSWORD"):
        interpolate_all(compose, {key: value for key, value in env_example.items() if key != "NEO4J_PASSWORD"})
    # The image turns every NEO4J_* variable into a server setting: these two would stop it.
    assert not {"NEO4J_USER", "NEO4J_PASSWORD"} & set(compose["services"]["neo4j"]["environment"])


def test_neo4j_memory_is_sized_for_the_graph(services):
    env = environment(services["neo4j"])
    for setting in (
        "NEO4J_server_memory_heap_initial__size",
        "NEO4J_server_memory_heap_max__size",
        "NEO4J_server_memory_pagecache_size",
    ):
        assert re.fullmatch(r"\d+[kKmMgG]", env[setting]), (setting, env.get(setting))


def test_neo4j_data_and_logs_live_on_named_volumes(services, resolved):
    mounts = named_mounts(services["neo4j"])
    assert {"/data", "/logs"} <= set(mounts)
    assert mounts["/data"] != mounts["/logs"]
    assert {mounts["/data"], mounts["/logs"]} <= set(resolved["volumes"])


def test_ports_are_published(services, env_example):
    assert {7474, 7687} <= container_ports(services["neo4j"])
    assert 8080 in container_ports(services["proxy"])
    assert int(env_example["NEO4J_HTTP_PORT"]) in host_ports(services["neo4j"])
    assert int(env_example["CDSS_PORT"]) in host_ports(services["proxy"])


def test_the_api_is_reached_only_through_the_buffering_proxy(services):
    assert "ports" not in services["api"]
    proxy = services["proxy"]
    assert proxy["environment"]["CDSS_UPSTREAM"] == "api:8000"
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert "./deploy/nginx:/etc/nginx/templates:ro" in proxy["volumes"]
    assert (ROOT / "deploy" / "nginx" / "cdss.conf.template").is_file()


def test_redis_holds_the_rate_limits_in_memory_with_a_ping_health_check(compose, services):
    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert "ports" not in redis, "only the services on the compose network reach it"
    assert redis["command"] == ["redis-server", "--save", "", "--appendonly", "no"], "no persistence"
    assert "volumes" not in redis
    assert compose["services"]["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_the_api_runs_as_replicas_sharing_one_set_of_rate_limits(services):
    api = services["api"]
    assert not {"container_name", "ports", "hostname"} & set(api), "replicas would collide"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    url = load_settings(environment(api)).redis_url
    assert url == "redis://redis:6379/0" and url.split("://")[1].split(":")[0] in services
    assert "CDSS_REDIS_URL" not in environment(services["graph-init"]), "only the API checks rate limits"


def test_graph_init_builds_the_graph_into_neo4j_once(compose, services):
    init = services["graph-init"]
    assert init["build"]["context"] == "." and "dockerfile" not in init["build"]
    assert init["restart"] == "no"
    assert init["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert environment(init)["CDSS_STORE"] == "neo4j://neo4j:7687"
    script = command_text(compose["services"]["graph-init"]["command"])
    assert "cdss data fetch" in script and 'cdss kg build --store "$$CDSS_STORE"' in script
    assert script.index("cdss kg stats") < script.index("cdss data fetch"), "the skip check runs first"


def test_api_waits_for_a_healthy_neo4j_and_a_finished_init(services):
    api = services["api"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["depends_on"]["graph-init"]["condition"] == "service_completed_successfully"
    assert command_text(api["command"]).startswith("gunicorn -c gunicorn.conf.py")
    assert command_text(api["command"]).endswith("api.wsgi:app")
    probe = healthcheck_text(api)
    assert "urllib.request" in probe and "/readyz" in probe and "curl" not in probe


def test_api_and_init_share_the_store_credentials_and_data_volume(services):
    api, init = services["api"], services["graph-init"]
    for service in (api, init):
        env = environment(service)
        assert env["CDSS_STORE"] == "neo4j://neo4j:7687"
        assert env["NEO4J_USER"] and env["NEO4J_PASSWORD"]
        assert env["CDSS_DATA_DIR"] in named_mounts(service)
    data_volumes = {named_mounts(service)[environment(service)["CDSS_DATA_DIR"]] for service in (api, init)}
    assert len(data_volumes) == 1, data_volumes
    assert api["image"] == init["image"] and api["build"] == init["build"]


def test_env_example_defines_every_variable_the_compose_file_uses(compose, env_example):
    references = variable_references(compose)
    assert not [arg for _, _, arg in references if "$" in arg], "nested variables are not portable"
    used = {name for name, _, _ in references}
    required = {name for name, op, _ in references if op in (":?", "?")}
    assert {"NEO4J_USER", "NEO4J_PASSWORD"} <= required
    assert used - set(env_example) == set(), "used by docker-compose.yml but missing from .env.example"
    assert set(env_example) - used == set(), "in .env.example but unused by docker-compose.yml"
    assert all(env_example[name] for name in required)
    assert env_example["NEO4J_USER"] == "neo4j", "the neo4j image only accepts neo4j as the initial admin"
    assert len(env_example["NEO4J_PASSWORD"]) >= 8, "Neo4j 5 refuses passwords shorter than 8 characters"


# -- Dockerfile and .dockerignore ------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), " ".join(rest.split())))
    return instructions


def test_dockerfile_installs_cpu_torch_before_the_project():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    torch = next(i for i, args in enumerate(runs) if re.search(r"pip install (\S+ )*torch==", args))
    project = next(i for i, args in enumerate(runs) if re.search(r"pip install (\S+ )*\.(\s|$)", args))
    assert f"--index-url {TORCH_CPU_INDEX}" in runs[torch]
    assert torch < project


def test_dockerfile_runs_gunicorn_as_a_user_without_privileges():
    instructions = dockerfile_instructions()
    stages = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    final = instructions[stages[-1] :]
    assert all(args.startswith("python:3.11-slim") for keyword, args in instructions if keyword == "FROM")
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("WORKDIR", "/app") in final
    cmd = next(args for keyword, args in reversed(final) if keyword == "CMD")
    assert '"gunicorn", "-c", "gunicorn.conf.py"' in cmd and '"api.wsgi:app"' in cmd


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    patterns = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert {".env", ".venv", ".git", "data", ".pytest_cache", ".hypothesis"} <= patterns
    assert not {"README.md", "pyproject.toml", "gunicorn.conf.py", "cdss", "api", "kg"} & patterns


# -- Neo4j Browser: style, ready queries, guide -----------------------------------------------------------------------


def test_style_gives_every_label_and_relationship_type_a_look():
    text = STYLE.read_text(encoding="utf-8")
    assert "/*" not in text and "//" not in text, "Browser's GraSS reader has no comments"
    rules = parse_grass(text)
    for label in NodeLabel:
        rule = rules[f"node.{label}"]
        assert {"color", "diameter", "caption"} <= set(rule), label
    for edge_type in EdgeType:
        assert "caption" in rules[f"relationship.{edge_type}"], edge_type
    colours = [rules[f"node.{label}"]["color"].lower() for label in NodeLabel]
    assert len(set(colours)) == len(colours)


def test_record_nodes_show_nothing_from_the_record():
    caption = parse_grass(STYLE.read_text(encoding="utf-8"))["node.Record"]["caption"]
    assert "{" not in caption, "a property caption would put record data on screen"


def test_favorites_cover_the_four_kinds_of_question():
    blocks = favorite_blocks()

    def kind(predicate) -> list[str]:
        return [block["name"] for block in blocks if predicate(block["query"])]

    findings_and_treatments = kind(lambda q: "$disease" in q and "HAS_FINDING" in q and "TREATS" in q)
    related_through_findings = kind(lambda q: re.search(r"-\[:HAS_FINDING\]->\(\w*\)<-\[:HAS_FINDING\]-\(", q))
    evidence_paths = kind(
        lambda q: "$findings" in q and "HAS_FINDING" in q and "TREATS" in q and ".license" in q and ".source" in q
    )
    edge_provenance = kind(lambda q: "$from" in q and "$to" in q and "r.license" in q and "r.source_version" in q)
    assert findings_and_treatments and related_through_findings and evidence_paths and edge_provenance


def test_favorites_are_named_explained_parameterised_and_use_the_graph_model():
    blocks = favorite_blocks()
    assert len({block["name"] for block in blocks}) == len(blocks) >= 4
    for block in blocks:
        query, name = block["query"], block["name"]
        assert any(not c.startswith(":param") for c in block["comments"]), f"{name}: say what it shows"
        assert query.endswith(";"), name
        used = set(re.findall(r"\$(\w+)", query))
        assert used == block["params"], f"{name}: :param examples {block['params']} for parameters {used}"
        assert labels_in(query) <= {str(label) for label in NodeLabel}, name
        assert relationship_types_in(query) <= {str(edge_type) for edge_type in EdgeType}, name
        assert not re.search(r"""['"]\s*\+\s*\$|\$\w+\s*\+\s*['"]""", query), f"{name}: concatenated parameter"


class GuideParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.slides = 0
        self.runnable: list[str] = []
        self._in_runnable = False

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        if tag == "slide":
            assert self.stack[:2] == ["article", "carousel"], self.stack
            self.slides += 1
        if tag == "pre" and "runnable" in classes:
            self._in_runnable = True
            self.runnable.append("")

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag == "pre":
            self._in_runnable = False

    def handle_data(self, data):
        if self._in_runnable:
            self.runnable[-1] += data


def test_guide_is_a_browser_slide_deck_with_every_ready_query():
    parser = GuideParser()
    parser.feed(GUIDE.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == [] and parser.slides >= 5
    runnable = {normalise(html.unescape(block)) for block in parser.runnable}
    for block in favorite_blocks():
        assert normalise(block["query"]) in runnable, f"{block['name']} is missing from guide.html"
    assert ":style http://localhost:8001/style.grass" in runnable

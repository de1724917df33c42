"""The README speaks to the people who run or evaluate Fieldline: it starts with the two commands
(the second is what CI runs), and the project never speaks of the work sessions that built it."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "Session" is also a sign-in session ("signing this session out"): look for how work sessions are
# spoken of — numbered, or "this session" in prose that is not about signing in.
WORK_SESSION = re.compile(r"\bsessions? \d|\bwork sessions?\b|\b(?:this|last|next|previous|earlier) session\b"
                          r"(?! (?:out|cookie|token|registered|ends|id))", re.IGNORECASE)


def _code_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", markdown, re.DOTALL)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    before_first_section = readme.split("\n## ", 1)[0]
    commands = _code_blocks(before_first_section)
    assert len(commands) == 2
    install_and_serve, install_and_test = commands
    assert "fieldline serve --demo" in install_and_serve
    assert install_and_test.endswith(".venv/bin/pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert f'TEST_COMMAND="{install_and_test}"' in ci


def test_measurement_history_lives_beside_the_benchmarks():
    readme = (ROOT / "README.md").read_text()
    bench = (ROOT / "bench" / "README.md").read_text()
    assert "## History" in bench and "## History" not in readme
    assert "bench/README.md" in readme


def test_no_file_in_the_project_speaks_of_work_sessions():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    offenders = []
    for name in tracked.splitlines():
        path = ROOT / name
        if path.suffix not in {".md", ".py", ".html", ".js", ".css", ""} or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            if WORK_SESSION.search(line) and name != "tests/test_docs.py":
                offenders.append(f"{name}:{number}: {line.strip()[:80]}")
    assert offenders == []

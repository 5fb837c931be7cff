"""Command line: ``python -m autograder release [aN]``, ``grade``, ``examples``, ``build``, ``gradescope-zip``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .assignments import names
from .defaults import WALL_S
from .engines import BACKENDS
from .grade import DEVICES, GradeConfig, SetupError, grade_batch, submissions_problem
from .sandbox import Limits


def main(argv: list[str] | None = None) -> int:
    ASSIGNMENTS = names()  # discovered from solutions/*/spec.py (and RECURRENT_COURSE_ROOTS)
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    rel = verbs.add_parser("release", help="check the spec against the notebook, then write the student release "
                                           "(assignments/<aN>/)")
    rel.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS),
                     help=f"assignments to release (default: all: {' '.join(ASSIGNMENTS)})")

    bd = verbs.add_parser("build", help="write the nbgrader course tree and otter files (not committed)")
    bd.add_argument("assignment", choices=ASSIGNMENTS, help="which assignment")
    bd.add_argument("--out", type=Path, default=None, help="folder (default: autograder/build/<aN>/)")

    ex = verbs.add_parser("examples", help="write the example submissions (reference, blank, one per mistake)")
    ex.add_argument("assignment", choices=ASSIGNMENTS, help="which assignment")
    ex.add_argument("--out", type=Path, required=True, help="folder to write the notebooks into")

    gr = verbs.add_parser("grade", help="grade a folder of submitted notebooks")
    gr.add_argument("--assignment", required=True, choices=ASSIGNMENTS, help="which assignment the notebooks are")
    gr.add_argument("--submissions", type=Path, default=None,
                    help="folder with <student>.ipynb files or <student>/ folders holding one notebook "
                         "(default with --nbgrader-course: its submitted/ folder)")
    gr.add_argument("--nbgrader-course", type=Path, default=None,
                    help="an nbgrader course folder (JupyterHub): grade its submitted/, write the gradebook "
                         "there, and put feedback/ and autograded/ where release_feedback and the formgrader look")
    gr.add_argument("--question", default=None,
                    help="regrade only this question (e.g. q3, after fixing a hidden case) for every student, "
                         "keeping every other question's stored score")
    gr.add_argument("--out", type=Path, default=Path("graded"),
                    help="output folder: grades.csv, results/, feedback/, gradebook.db (default: graded)")
    gr.add_argument("--backend", choices=BACKENDS, default="nbgrader",
                    help="engine that executes the notebooks (default: nbgrader)")
    gr.add_argument("--device", choices=DEVICES, default="cpu",
                    help="device given to the grading kernel as RECURRENT_DEVICE (default: cpu)")
    gr.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    gr.add_argument("--db-url", default=None,
                    help="nbgrader gradebook database URL, e.g. postgresql://user@host/db "
                         "(default: sqlite:///<out>/gradebook.db)")
    gr.add_argument("--timeout", type=float, default=WALL_S,
                    help=f"wall-clock seconds allowed per submission (default: {WALL_S:g})")
    gr.add_argument("--cpu-limit", type=float, default=Limits().cpu_s,
                    help=f"CPU seconds per submission, all processes together (default: {Limits().cpu_s:g})")
    gr.add_argument("--memory-limit", type=int, default=Limits().memory_mb,
                    help=f"memory MB per submission, all processes together (default: {Limits().memory_mb})")
    gr.add_argument("--no-isolate", action="store_true",
                    help="run engines and kernels without the sandbox (limits and kills only); only for trusted "
                         "notebooks or when the machine itself is the sandbox (e.g. a Gradescope container)")
    gr.add_argument("--regrade", action="store_true", help="grade again students already graded in --out")
    gr.add_argument("--keep-workdirs", action="store_true", help="keep each submission's working copy (debugging)")

    rp = verbs.add_parser("report", help="class report (report.html) and grades_summary.csv of a grading run")
    rp.add_argument("--out", type=Path, default=Path("graded"), help="the grading run's --out folder (default: graded)")

    sm = verbs.add_parser("similarity", help="pairwise similarity of the students' answers (copydetect)")
    sm.add_argument("--assignment", required=True, choices=ASSIGNMENTS, help="which assignment the notebooks are")
    sm.add_argument("--submissions", required=True, type=Path, help="the folder given to grade --submissions")
    sm.add_argument("--out", type=Path, default=Path("graded"),
                    help="where similarity.html and similarity.csv go (default: graded)")
    sm.add_argument("--threshold", type=float, default=None,
                    help="share of one student's code found in another's above which a pair is shown (default 0.5)")

    gz = verbs.add_parser("gradescope-zip", help="build the Gradescope autograder zip (runs this pipeline)")
    gz.add_argument("assignment", choices=ASSIGNMENTS, help="which assignment")
    gz.add_argument("--out", type=Path, default=None,
                    help="zip to write (default: autograder/build/<aN>/gradescope/autograder.zip)")

    gs = verbs.add_parser("gradescope-run", help="inside Gradescope: grade /autograder/submission, write results.json")
    gs.add_argument("--assignment", required=True, choices=ASSIGNMENTS, help="which assignment")
    gs.add_argument("--submission", required=True, type=Path, help="folder holding the submitted notebook")
    gs.add_argument("--results", required=True, type=Path, help="where to write Gradescope's results.json")
    gs.add_argument("--timeout", type=float, default=WALL_S, help=f"wall-clock seconds allowed (default: {WALL_S:g})")

    args = parser.parse_args(argv)
    if args.verb == "gradescope-zip":
        from .gradescope import build_zip
        from .paths import BUILD

        target = build_zip(args.assignment, args.out or BUILD / args.assignment / "gradescope" / "autograder.zip")
        print(f"wrote {target}")
        return 0
    if args.verb == "gradescope-run":
        from .gradescope import gradescope_run

        data = gradescope_run(args.assignment, args.submission, args.results, Limits(wall_s=args.timeout))
        print(f"score {data['score']:g}")
        return 0
    if args.verb == "release":
        from .preflight import PreflightError
        from .release import release

        for assignment in args.assignments:
            try:
                paths = release(assignment)
            except PreflightError as exc:
                print(exc, file=sys.stderr)
                return 1
            print(f"released {assignment}: {paths.student_dir}")
        return 0
    if args.verb == "build":
        from .paths import BUILD
        from .release import build

        tree = build(args.assignment, args.out or BUILD / args.assignment, zip=True)
        print(f"wrote {tree.nbgrader_dir} and {tree.otter_dir}")
        return 0
    if args.verb == "examples":
        from .examples import build_examples

        written = build_examples(args.assignment, args.out)
        print(f"wrote {len(written)} example submissions to {args.out}")
        return 0
    if args.verb == "report":
        from .report import class_report, load_results, summary_csv
        from .results import atomic_write_text

        try:
            results = load_results(args.out)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        atomic_write_text(args.out / "grades_summary.csv", summary_csv(results))
        page = class_report(results, args.out / "report.html")
        print(f"wrote {page} and {args.out / 'grades_summary.csv'} ({len(results)} submissions)")
        return 0
    if args.verb == "similarity":
        import tempfile

        from .assignments import get
        from .intake import scan
        from .similarity import DEFAULT_THRESHOLD, similarity

        if (problem := submissions_problem(args.submissions)) is not None:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        with tempfile.TemporaryDirectory(prefix="recurrent-similarity-") as tmp:
            report = scan(args.submissions, args.assignment, Path(tmp))
            found = {s.student: s.notebook_path for s in report.submissions if s.notebook_path}
            try:
                pairs = similarity(found, get(args.assignment).student_notebook, args.out, threshold)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        flagged = [p for p in pairs if p.similarity > threshold]
        print(f"{len(found)} submissions, {len(pairs)} pairs, {len(flagged)} above {threshold:.0%} "
              f"-> {args.out / 'similarity.html'}, {args.out / 'similarity.csv'}")
        for p in flagged[:10]:
            print(f"  {p.similarity:.0%}  {p.a} ~ {p.b}")
        return 0
    submissions = args.submissions
    if submissions is None:
        if args.nbgrader_course is None:
            parser.error("grade needs --submissions DIR (or --nbgrader-course DIR, whose submitted/ is graded)")
        submissions = args.nbgrader_course / "submitted"
    if (problem := submissions_problem(submissions)) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    config = GradeConfig(args.assignment, submissions, args.out, args.backend, args.device, args.jobs,
                         args.db_url, Limits(args.timeout, args.cpu_limit, args.memory_limit), args.regrade,
                         args.keep_workdirs, isolate=not args.no_isolate, nbgrader_course=args.nbgrader_course,
                         question=args.question)
    try:
        results = grade_batch(config)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not results.found:
        return 0  # the warning is printed by grade_batch; nothing was prepared or written
    kept = len(results) - len(results.graded)
    print(f"graded {len(results.graded)} submission{'s' if len(results.graded) != 1 else ''} in this run"
          + (f" ({kept} kept from earlier runs; --regrade grades them again)" if kept else "")
          + f" -> {args.out / 'grades.csv'}, {args.out / 'grades_summary.csv'}")
    if (problem := results.nobody_graded()) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

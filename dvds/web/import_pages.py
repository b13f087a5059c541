"""Operators import a force's export from the inbox: upload a CSV or Excel file and choose
a column profile; the dry run shows the counts and the rejected lines with their reasons
(the rejects file downloadable); confirming starts ImportWorkflow, whose progress the page
shows until it is done. The import runs on the worker: closing the page, or restarting
the web app, neither stops nor repeats it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from activities.imports import UploadGone
from dvds.cases.client import CaseClient
from dvds.connection.keys import KeysError, load_keys
from dvds.importer.durable import begin_import, dry_run, import_progress, store_for
from dvds.importer.errors import ExportError, ProfileError
from dvds.importer.profile import load_profile
from dvds.importer.uploads import Upload, UploadStore, profiles_dir
from dvds.web.application_pages import refuse_non_operator
from dvds.web.deps import Cases
from dvds.web.identity import SignedIn, checked_form
from dvds.web.rendering import render
from states.imports import ImportProgress, RowProblem

router = APIRouter()
MAX_UPLOAD = 64 * 1024 * 1024  # a review's export is a few MB; 60,000 rows as CSV about 12 MB
SHOWN_REJECTS = 200  # on the page; the rejects file has them all
TODAYS_COLUMNS = ""  # the profile choice for an export in our own column names


def _store(cases: CaseClient) -> UploadStore:
    try:
        return store_for(cases.settings, load_keys(cases.settings))
    except KeysError as err:
        raise HTTPException(503, str(err)) from None


def profile_names(home: Path) -> list[str]:
    folder = profiles_dir(home)
    return sorted(p.name for p in folder.glob("*.toml")) if folder.is_dir() else []


def _form(request: Request, cases: CaseClient, errors: dict[str, str], chosen: str = TODAYS_COLUMNS,
          sheet: str = "", status_code: int = 200) -> Response:
    return render(request, "imports.html", status_code, profiles=profile_names(cases.settings.home), chosen=chosen,
                  sheet=sheet, errors=errors, folder=profiles_dir(cases.settings.home))


@router.get("/imports")
async def imports_page(request: Request, me: SignedIn, cases: Cases) -> Response:
    refuse_non_operator(me)
    return _form(request, cases, {})


async def _bytes(value: object, limit: int) -> bytes | None:
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    return data


@router.post("/imports")
async def check_upload(request: Request, me: SignedIn, cases: Cases) -> Response:
    form = await checked_form(request)
    refuse_non_operator(me)
    chosen = str(form.get("profile", TODAYS_COLUMNS))
    sheet = str(form.get("sheet", "")).strip()
    upload = form.get("file")
    data = await _bytes(upload, MAX_UPLOAD)
    if data is None or not isinstance(upload, UploadFile):
        return _form(request, cases, {"file": "file: choose the force's export (CSV or .xlsx)"}, chosen, sheet, 422)
    if len(data) > MAX_UPLOAD:
        return _form(request, cases, {"file": f"file: larger than {MAX_UPLOAD // 2**20} MB"}, chosen, sheet, 413)
    profile_text, profile_name = None, None
    own = await _bytes(form.get("profile_file"), 1024 * 1024)
    try:
        if own is not None:
            profile_name = getattr(form.get("profile_file"), "filename", None) or "uploaded profile"
            profile_text = own.decode("utf-8")
        elif chosen != TODAYS_COLUMNS:
            if chosen not in profile_names(cases.settings.home):
                raise ProfileError(f"profile: no profile {chosen!r} in {profiles_dir(cases.settings.home)}")
            profile_name, profile_text = chosen, (profiles_dir(cases.settings.home) / chosen).read_text("utf-8")
        if profile_text is not None:
            load_profile(profile_text)  # refused whole, before the file is read
    except UnicodeDecodeError:
        return _form(request, cases, {"profile": "profile: not a UTF-8 text file"}, chosen, sheet, 422)
    except ProfileError as err:
        return _form(request, cases, {"profile": str(err)}, chosen, sheet, 422)
    try:
        upload_id, _ = await run_in_threadpool(
            dry_run, _store(cases), cases.policy, data, upload.filename or "export", me.id,
            sheet=sheet or None, profile_name=profile_name, profile_text=profile_text)
    except ProfileError as err:
        return _form(request, cases, {"profile": str(err)}, chosen, sheet, 422)
    except ExportError as err:
        where = "sheet" if str(err).startswith("sheet") else "file"
        return _form(request, cases, {where: str(err)}, chosen, sheet, 422)
    return RedirectResponse(f"/imports/{upload_id}", status_code=303)


def _found(store: UploadStore, upload_id: str) -> Upload:
    try:
        return store.upload(upload_id)
    except UploadGone as gone:
        raise HTTPException(404, f"import: {gone}") from None


@router.get("/imports/{upload_id}")
async def import_page(request: Request, upload_id: str, me: SignedIn, cases: Cases) -> Response:
    refuse_non_operator(me)
    upload = _found(_store(cases), upload_id)
    progress = await import_progress(cases.client, upload_id)
    problems = _problems(upload, progress)
    return render(request, "import.html", upload_id=upload_id, upload=upload, progress=progress,
                  problems=problems[:SHOWN_REJECTS], problem_count=len(problems),
                  refresh=progress is not None and not progress.finished and progress.stopped is None)


@router.post("/imports/{upload_id}/start")
async def confirm_import(request: Request, upload_id: str, me: SignedIn, cases: Cases) -> Response:
    await checked_form(request)
    refuse_non_operator(me)
    upload = _found(_store(cases), upload_id)
    await begin_import(cases.client, cases.settings, upload_id, upload, me.id)
    return RedirectResponse(f"/imports/{upload_id}", status_code=303)


def _problems(upload: Upload, progress: ImportProgress | None) -> list[RowProblem]:
    """The rows not started: rejected at the dry run, then any refused or changed as started."""
    return sorted([*upload.rejects, *(progress.problems if progress else [])], key=lambda p: p.line)


@router.get("/imports/{upload_id}/rejects.csv")
async def rejects_file(upload_id: str, me: SignedIn, cases: Cases) -> Response:
    refuse_non_operator(me)
    upload = _found(_store(cases), upload_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "case_ref", "reason"])
    for problem in _problems(upload, await import_progress(cases.client, upload_id)):
        writer.writerow([problem.line, problem.case_ref or "", problem.reason])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="import-{upload_id}.rejects.csv"'})

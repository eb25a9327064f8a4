"""Contract tests: libica (a client generated from ICA's public spec, strict model checking)
against a running sandbox. If libica cannot read a sandbox response, the sandbox is wrong."""

from __future__ import annotations

import pytest
import requests

from libica.openapi.v2 import ApiException
from libica.openapi.v2.api.project_analysis_api import ProjectAnalysisApi
from libica.openapi.v2.api.project_api import ProjectApi
from libica.openapi.v2.api.project_data_api import ProjectDataApi
from libica.openapi.v2.api.project_data_linking_batch_api import ProjectDataLinkingBatchApi
from libica.openapi.v2.model.analysis_query_parameters_pipeline import AnalysisQueryParametersPipeline as Query
from libica.openapi.v2.model.create_file_and_temporary_credentials import CreateFileAndTemporaryCredentials
from libica.openapi.v2.model.create_file_data import CreateFileData
from libica.openapi.v2.model.create_project_data_linking_batch import CreateProjectDataLinkingBatch
from libica.openapi.v2.model.create_project_data_linking_batch_item import CreateProjectDataLinkingBatchItem
from libica.openapi.v2.model.create_temporary_credentials import CreateTemporaryCredentials

SRC = "0d6f0000-0000-4000-8000-000000000001"
DST = "0d6f0000-0000-4000-8000-000000000002"
ANALYSIS = "5c1e0000-0000-4000-8000-00000000000a"
R1 = "fil.a0000000000000000000000000000001"
R2 = "fil.a0000000000000000000000000000002"
V4 = "application/vnd.illumina.v4+json"


def _clock(sandbox, advance: str) -> None:
    requests.post(sandbox.control_url + "/clock", json={"advance": advance}).raise_for_status()


def _all_data(api: ProjectDataApi, project_id: str, **kwargs) -> list:
    items, token = [], None
    while True:
        extra = {"page_token": token} if token else {}
        page = api.get_project_data_list(project_id, page_size="2", **kwargs, **extra)
        items.extend(page.items)
        token = page.next_page_token
        if not token:
            return items


def test_projects_list_search_and_get(client):
    api = ProjectApi(client)
    page = api.get_projects()
    assert sorted(p.name for p in page.items) == ["Ken_demos", "ken_debug"]
    assert page.next_page_token is None
    found = api.get_projects(search="demos")
    assert [p.name for p in found.items] == ["Ken_demos"]
    one = api.get_project(SRC)
    assert one.name == "ken_debug" and one.region.country.code == "US"
    paged = api.get_projects(page_size="1")
    assert len(paged.items) == 1 and paged.next_page_token
    rest = api.get_projects(page_size="1", page_token=paged.next_page_token)
    assert {paged.items[0].name, rest.items[0].name} == {"Ken_demos", "ken_debug"}


def test_unknown_project_is_404_and_wrong_key_401(sandbox, client):
    with pytest.raises(ApiException) as err:
        ProjectApi(client).get_project("00000000-0000-4000-8000-000000000000")
    assert err.value.status == 404
    r = requests.get(sandbox.ica_url + "/api/projects", headers={"X-API-Key": "wrong"})
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 401 and body["title"] and body["type"] and "parameters" in body and body["timestamp"]


def test_analyses_deprecated_list_search_get_and_outputs(client):
    api = ProjectAnalysisApi(client)
    listed = api.get_analyses(SRC)
    assert {a.user_reference for a in listed.items} == {"RUN_A", "RUN_B", "dragen-run"}
    assert {a.status for a in listed.items} == {"SUCCEEDED", "FAILEDFINAL", "INPROGRESS"}
    only = api.get_analyses(SRC, status="SUCCEEDED")
    assert [a.id for a in only.items] == [ANALYSIS]
    by_user = api.get_analyses(SRC, userreference="RUN_B")
    assert [a.user_reference for a in by_user.items] == ["RUN_B"]
    searched = api.search_analyses(SRC, analysis_query_parameters_pipeline=Query(status=["FAILED_FINAL"]))
    assert [a.user_reference for a in searched.items] == ["RUN_B"]
    assert searched.items[0].status == "FAILED_FINAL"  # V4 spelling
    progress = api.search_analyses(SRC, analysis_query_parameters_pipeline=Query(status=["IN_PROGRESS"]))
    assert [a.status for a in progress.items] == ["IN_PROGRESS"]
    client.set_default_header("Accept", V4)
    one = api.get_analysis(SRC, ANALYSIS)
    assert one.reference == "RUN_A-BclConvert_v4_1_23-5c1e" and one.pipeline.code == "BclConvert_v4_1_23_patch1"
    client.set_default_header("Accept", "application/vnd.illumina.v3+json")
    outputs = api.get_analysis_outputs(SRC, ANALYSIS)
    folder = outputs.items[0].data[0]
    assert outputs.items[0].code == "Output" and folder.data_type == "FOLDER" and folder.name == "output"
    got = ProjectDataApi(client).get_project_data(SRC, folder.data_id)
    assert got.data.details.path == "/ilmn-analyses/RUN_A/output/"


def test_get_analysis_v3_and_v4_by_accept(sandbox):
    url = f"{sandbox.ica_url}/api/projects/{SRC}/analyses/{ANALYSIS}"
    v3 = requests.get(url, headers={"X-API-Key": "test-key", "Accept": "application/vnd.illumina.v3+json"})
    v4 = requests.get(url, headers={"X-API-Key": "test-key", "Accept": V4})
    assert v3.headers["Content-Type"] == "application/vnd.illumina.v3+json"
    assert v4.headers["Content-Type"] == V4
    assert "ownerId" in v3.json() and "owner" not in v3.json()
    assert v4.json()["owner"]["id"] and v4.json()["tenant"]["id"] and "ownerId" not in v4.json()


def test_data_list_cursor_paging_filters_and_children(client):
    api = ProjectDataApi(client)
    every = _all_data(api, SRC)
    paths = [d.data.details.path for d in every]
    assert len(paths) == len(set(paths)) == 17  # 7 files, 1 explicit + 9 implied folders
    fastqs = _all_data(api, SRC, file_path=["/ILMN-analyses/RUN_A/"], type="FILE",
                       filename=["M-1_S1_L001_R1_001.fastq.gz", "M-1_S1_L001_R2_001.fastq.gz"],
                       filename_match_mode="EXACT")
    assert sorted(d.data.id for d in fastqs) == [R1, R2]
    archived = _all_data(api, SRC, status=["ARCHIVED"])
    assert {d.data.details.status for d in archived} == {"ARCHIVED"} and len(archived) == 3  # folder, subfolder, file
    exact = api.get_project_data_list(SRC, file_path=["/scratch/notes.txt"], file_path_match_mode="FULL_CASE_INSENSITIVE")
    assert [d.data.details.name for d in exact.items] == ["notes.txt"]
    lane = api.get_project_data_list(SRC, parent_folder_path="/ilmn-analyses/RUN_A/output/Samples/Lane_1/")
    assert len(lane.items) == 4
    root = api.get_project_data_list(SRC, parent_folder_path="/")
    assert sorted(d.data.details.path for d in root.items) == ["/ilmn-analyses/", "/scratch/"]
    by_id = api.get_project_data_list(SRC, id=[R2])
    assert [d.data.id for d in by_id.items] == [R2]
    older = api.get_project_data_list(SRC, creation_date_before="2026-08-01T00:00:00Z", type="FILE")
    assert [d.data.details.name for d in older.items] == ["M-9_S1_L001_R1_001.fastq.gz"]
    folder = api.get_project_data_list(SRC, parent_folder_path="/ilmn-analyses/RUN_A/output/", type="FOLDER")
    children = api.get_project_data_children(SRC, folder.items[0].data.id)
    assert folder.items[0].data.details.path.endswith("/Reports/")
    assert [c.data.details.name for c in children.items] == ["bsshoutput.json"]


def test_data_list_offset_paging_forced_by_sort(client):
    api = ProjectDataApi(client)
    first = api.get_project_data_list(SRC, sort="fileSizeInBytes desc, name", type="FILE", page_size="3")
    assert first.next_page_token == "" and first.total_item_count == 7
    sizes = [d.data.details.file_size_in_bytes for d in first.items]
    assert sizes == sorted(sizes, reverse=True)
    second = api.get_project_data_list(SRC, sort="fileSizeInBytes desc, name", type="FILE", page_size="3",
                                       page_offset="3")
    assert not {d.data.id for d in first.items} & {d.data.id for d in second.items}


def test_bad_parameter_is_400(sandbox):
    url = f"{sandbox.ica_url}/api/projects/{SRC}/data"
    for params in ({"parentFolderPath": "no-slash"}, {"status": "GONE"}, {"pageSize": "x"}, {"sort": "color"},
                   {"pageToken": "garbage"}, {"filePathMatchMode": "REGEX"}):
        r = requests.get(url, params=params, headers={"X-API-Key": "test-key"})
        assert r.status_code == 400, params
        assert r.headers["Content-Type"] == "application/problem+json"


def test_link_single_and_linked_data_keeps_owner(client):
    api = ProjectDataApi(client)
    linked = api.link_data_to_project(DST, R1)
    assert linked.project_id == DST and linked.data.id == R1
    assert linked.data.details.owning_project_id == SRC
    again = api.get_project_data(DST, R1)
    assert again.data.details.owning_project_id == SRC
    with pytest.raises(ApiException) as err:
        api.link_data_to_project(DST, R1)
    assert err.value.status == 409
    api.unlink_data_from_project(DST, R1)
    with pytest.raises(ApiException) as err:
        api.get_project_data(DST, R1)
    assert err.value.status == 404


def test_linking_batch_runs_then_succeeds_with_items(sandbox, client):
    api = ProjectDataLinkingBatchApi(client)
    body = CreateProjectDataLinkingBatch(items=[CreateProjectDataLinkingBatchItem(data_id=R1),
                                                CreateProjectDataLinkingBatchItem(data_id=R2)])
    batch = api.create_project_data_linking_batch(DST, body)
    assert batch.job.status == "RUNNING"
    assert api.get_project_data_linking_batch(DST, batch.id).job.status == "RUNNING"
    _clock(sandbox, "6s")
    done = api.get_project_data_linking_batch(DST, batch.id)
    assert done.job.status == "SUCCEEDED"
    items = api.get_project_data_linking_batch_items(DST, batch.id)
    assert sorted(i.request.data_id for i in items.items) == [R1, R2]
    assert {i.processing.status for i in items.items} == {"LINKED"}
    dst = ProjectDataApi(client).get_project_data_list(DST, type="FILE")
    assert sorted(d.data.id for d in dst.items) == [R1, R2]
    assert {d.data.details.owning_project_id for d in dst.items} == {SRC}


def test_linking_batch_partial(sandbox, client):
    api = ProjectDataLinkingBatchApi(client)
    ProjectDataApi(client).link_data_to_project(DST, R1)
    body = CreateProjectDataLinkingBatch(items=[CreateProjectDataLinkingBatchItem(data_id=R1),
                                                CreateProjectDataLinkingBatchItem(data_id="fil.doesnotexist")])
    batch = api.create_project_data_linking_batch(DST, body)
    _clock(sandbox, "10s")
    assert api.get_project_data_linking_batch(DST, batch.id).job.status == "PARTIALLY_SUCCEEDED"
    statuses = {i.request.data_id: i.processing.status for i in api.get_project_data_linking_batch_items(DST, batch.id).items}
    assert statuses == {R1: "ALREADY_LINKED", "fil.doesnotexist": "FAILED"}


def test_archive_folder_is_asynchronous_and_recursive(sandbox, client):
    api = ProjectDataApi(client)
    folder = api.get_project_data_list(SRC, file_path=["/ilmn-analyses/RUN_A/output/"],
                                       file_path_match_mode="FULL_CASE_INSENSITIVE").items[0]
    api.archive_data(SRC, folder.data.id)
    under = _all_data(api, SRC, file_path=["/ilmn-analyses/RUN_A/output/"])
    assert {d.data.details.status for d in under} == {"ARCHIVING"}
    _clock(sandbox, "61m")
    under = _all_data(api, SRC, file_path=["/ilmn-analyses/RUN_A/output/"])
    assert {d.data.details.status for d in under} == {"ARCHIVED"}
    untouched = api.get_project_data_list(SRC, file_path=["/scratch/"], type="FILE").items
    assert [d.data.details.status for d in untouched] == ["AVAILABLE"]
    with pytest.raises(ApiException) as err:  # already archived
        api.archive_data(SRC, R1)
    assert err.value.status == 400
    api.unarchive_data(SRC, folder.data.id)
    assert api.get_project_data(SRC, R1).data.details.status == "UNARCHIVING"
    _clock(sandbox, "6h")
    assert api.get_project_data(SRC, R1).data.details.status == "AVAILABLE"


def test_delete_is_asynchronous_and_removes_the_subtree(sandbox, client):
    api = ProjectDataApi(client)
    folder = api.get_project_data_list(SRC, parent_folder_path="/ilmn-analyses/", type="FOLDER").items[0]
    assert folder.data.details.path == "/ilmn-analyses/RUN_A/"
    api.delete_data(SRC, folder.data.id)
    assert api.get_project_data(SRC, R1).data.details.status == "DELETING"
    _clock(sandbox, "11m")
    with pytest.raises(ApiException) as err:
        api.get_project_data(SRC, R1)
    assert err.value.status == 404
    assert not _all_data(api, SRC, file_path=["/ilmn-analyses/RUN_A/"])
    assert _all_data(api, SRC, file_path=["/ilmn-analyses/RUN_B/"])


def test_download_url_serves_the_content(client):
    api = ProjectDataApi(client)
    notes = api.get_project_data_list(SRC, filename=["notes.txt"]).items[0]
    url = api.create_download_url_for_data(SRC, notes.data.id).url
    assert requests.get(url).content == b"hello sandbox\n"
    archived = api.get_project_data_list(SRC, status=["ARCHIVED"], type="FILE").items[0]
    with pytest.raises(ApiException) as err:
        api.create_download_url_for_data(SRC, archived.data.id)
    assert err.value.status == 400


def test_create_file_then_conflict_then_upload_url(client):
    api = ProjectDataApi(client)
    made = api.create_file(DST, CreateFileData(name="contract.csv", folder_path="/fastq_manifests/"))
    assert made.data.details.status == "PARTIAL" and made.data.details.path == "/fastq_manifests/contract.csv"
    with pytest.raises(ApiException) as err:
        api.create_file(DST, CreateFileData(name="contract.csv", folder_path="/fastq_manifests/"))
    assert err.value.status == 409
    url = api.create_upload_url_for_data(DST, made.data.id).url
    assert requests.put(url, data=b"a,b\n1,2\n").status_code == 200
    got = api.get_project_data(DST, made.data.id)
    assert got.data.details.status == "AVAILABLE" and got.data.details.file_size_in_bytes == 8
    assert requests.get(api.create_download_url_for_data(DST, made.data.id).url).content == b"a,b\n1,2\n"


def test_create_folder_and_create_file_with_upload_url(client):
    """Found by review: libica's create_folder and create_file_with_upload_url got 404 (no route)."""
    from libica.openapi.v2.model.create_file_and_upload_url import CreateFileAndUploadUrl
    from libica.openapi.v2.model.create_folder import CreateFolder

    api = ProjectDataApi(client)
    folder = api.create_folder(DST, CreateFolder(name="inbox", folder_path="/deliveries/"))
    assert folder.data.details.data_type == "FOLDER" and folder.data.details.path == "/deliveries/inbox/"
    with pytest.raises(ApiException) as err:
        api.create_folder(DST, CreateFolder(name="inbox", folder_path="/deliveries/"))
    assert err.value.status == 409
    made = api.create_file_with_upload_url(DST, CreateFileAndUploadUrl(name="x.csv", folder_path="/deliveries/inbox/"))
    assert made.data.details.status == "PARTIAL" and made.data.details.path == "/deliveries/inbox/x.csv"
    assert requests.put(made.upload_url, data=b"a\n").status_code == 200
    assert api.get_project_data(DST, made.data.id).data.details.status == "AVAILABLE"


def test_temporary_credentials_aws_and_rclone(client):
    api = ProjectDataApi(client)
    made = api.create_file_with_temporary_credentials(
        DST, CreateFileAndTemporaryCredentials(name="x.csv", folder_path="/up/"))
    aws = made.temp_credentials.aws_temp_credentials
    assert aws.bucket and aws.object_prefix.endswith("/up/x.csv") and aws.session_token
    rclone = api.create_temporary_credentials_for_data(
        DST, made.data.id, create_temporary_credentials=CreateTemporaryCredentials(credentials_format="RCLONE"))
    cfg = rclone.rclone_temp_credentials.config
    assert cfg["access_key_id"] == aws.access_key and rclone.rclone_temp_credentials.file_path_prefix == \
        f"{aws.bucket}/{aws.object_prefix}"


def test_pydantic_generation_of_libica_reads_the_same_responses(sandbox):
    """libica also ships a pydantic (openapi-generator v7) client; it must parse the sandbox too."""
    import libica.openapi.v3 as v3
    from libica.openapi.v3.api.project_analysis_api import ProjectAnalysisApi as AnalysisV3
    from libica.openapi.v3.api.project_data_api import ProjectDataApi as DataV3
    from libica.openapi.v3.api.project_data_linking_batch_api import ProjectDataLinkingBatchApi as BatchV3
    from libica.openapi.v3.models import CreateProjectDataLinkingBatch as Batch
    from libica.openapi.v3.models import CreateProjectDataLinkingBatchItem as BatchItem

    cfg = v3.Configuration(host=sandbox.ica_url)
    cfg.api_key["ApiKeyAuth"] = "test-key"
    with v3.ApiClient(cfg) as c:
        data = DataV3(c)
        assert len(data.get_project_data_list(SRC, page_size="100").items) == 17
        assert data.get_project_data(SRC, R1).data.details.status == "AVAILABLE"
        assert AnalysisV3(c).get_analysis_outputs(SRC, ANALYSIS).items[0].code == "Output"
        assert str(data.link_data_to_project(DST, R1).data.details.owning_project_id) == SRC
        job = BatchV3(c).create_project_data_linking_batch(DST, Batch(items=[BatchItem(data_id=R2)])).job
        assert job.status == "RUNNING"
        c.set_default_header("Accept", V4)
        assert AnalysisV3(c).get_analysis(SRC, ANALYSIS).status == "SUCCEEDED"

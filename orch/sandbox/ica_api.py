"""ICA v2 routes of the sandbox (under ``/ica/rest``), shaped per the public OpenAPI spec: the route
table. The handlers live by API area: ``ica_projects`` (projects, analyses), ``ica_data`` (project
data), ``ica_links`` (linking batches); ``ica_common`` holds bodies, paging and lookups.

Responses carry every required field libica checks; errors are RFC 7807 Problems
(``application/problem+json``). See the README for what is knowingly left out.
"""

from __future__ import annotations

from orch.sandbox.web import Route
# bodies other sandbox modules build (notifications, the server's errors) are importable from here too
from orch.sandbox.ica_common import analysis_json, data_json, problem, project_json  # noqa: F401
from orch.sandbox.ica_projects import analysis_outputs, get_analysis, get_project, list_analyses, list_projects, search_analyses, update_analysis  # noqa: F401
from orch.sandbox.ica_data import _transition, create_credentials, create_download_url, create_file, create_file_with_credentials, create_file_with_upload_url, create_folder, create_upload_url, data_children, get_data, link_data, list_data, unlink_data, update_data  # noqa: F401
from orch.sandbox.ica_links import create_link_batch, get_link_batch, link_batch_item, link_batch_items  # noqa: F401

P = "/api/projects/<projectId>"
D = P + "/data/<dataId>"
ROUTES: list[Route] = [
    Route("GET", "/api/projects", list_projects),
    Route("GET", P, get_project),
    Route("GET", P + "/analyses", list_analyses),
    Route("POST", P + "/analysis:search", search_analyses),
    Route("GET", P + "/analyses/<analysisId>", get_analysis),
    Route("PUT", P + "/analyses/<analysisId>", update_analysis),
    Route("GET", P + "/analyses/<analysisId>/outputs", analysis_outputs),
    Route("GET", P + "/data", list_data),
    Route("POST", P + "/data:createFile", create_file),
    Route("POST", P + "/data:createFolder", create_folder),
    Route("POST", P + "/data:createFileWithUploadUrl", create_file_with_upload_url),
    Route("POST", P + "/data:createFileWithTemporaryCredentials", create_file_with_credentials),
    Route("GET", D, get_data),
    Route("PUT", D, update_data),
    Route("POST", D, link_data),
    Route("GET", D + "/children", data_children),
    Route("POST", D + ":unlink", unlink_data),
    Route("POST", D + ":archive", _transition("archive")),
    Route("POST", D + ":unarchive", _transition("unarchive")),
    Route("POST", D + ":delete", _transition("delete")),
    Route("POST", D + ":createTemporaryCredentials", create_credentials),
    Route("POST", D + ":createDownloadUrl", create_download_url),
    Route("POST", D + ":createUploadUrl", create_upload_url),
    Route("POST", P + "/dataLinkingBatch", create_link_batch),
    Route("GET", P + "/dataLinkingBatch/<batchId>", get_link_batch),
    Route("GET", P + "/dataLinkingBatch/<batchId>/items", link_batch_items),
    Route("GET", P + "/dataLinkingBatch/<batchId>/items/<itemId>", link_batch_item),
]

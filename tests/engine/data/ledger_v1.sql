-- A schema-1 ledger written by orch 829ade2 (the release before schema 2): `orch apply --sandbox -p policies/mgi.yaml --yes` on the demo world, then `orch ledger import` of a one-row legacy table. Used by tests/engine/test_ledger_schema.py.
BEGIN TRANSACTION;
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    action_id     TEXT NOT NULL,
    policy        TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_name TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL,
    message       TEXT NOT NULL DEFAULT ''
);
INSERT INTO "audit" VALUES(1,'2026-11-25T12:00:02Z','c5504b518f4f969a','archive-basespace-datasets','archive','bssh.dataset','ds.b2283cadec7d5126cef6e1ad73ba9f9c','M-180-001_L001','done','archive requested');
INSERT INTO "audit" VALUES(2,'2026-11-25T12:00:02Z','d12f78db7f8c13e0','archive-basespace-datasets','archive','bssh.dataset','ds.3966e3a6e80b5d732456f5d6bbd63328','M_180_002_L001','done','archive requested');
INSERT INTO "audit" VALUES(3,'2026-11-25T12:00:02Z','6356cbd1a6bb9c55','archive-basespace-datasets','archive','bssh.dataset','ds.cbf18c55ad8c063ff1fdeba708028ad4','Phix_L001','done','archive requested');
INSERT INTO "audit" VALUES(4,'2026-11-25T12:00:02Z','74ee5d7095094545','archive-basespace-runs','archive','bssh.run','300000109','20260915_LH00619_0009_A22AB3CDE4','done','archive requested');
INSERT INTO "audit" VALUES(5,'2026-11-25T12:00:02Z','17992d870b7fe420','archive-ica-outputs','archive','ica.data','fol.89599911b300e936972bee7d99430a9c','output','done','archive requested');
INSERT INTO "audit" VALUES(6,'2026-11-25T12:00:02Z','e6733945c81ec9ad','delete-basespace-datasets','unarchive','bssh.dataset','ds.c97e32d2f73f9db9dea33f9a9a434ac5','M_120_002_L001','done','restore requested; a later run deletes it once restored');
INSERT INTO "audit" VALUES(7,'2026-11-25T12:00:02Z','77c087d55e7ae0a4','delete-basespace-runs','unarchive','bssh.run','300000105','20260806_LH00619_0005_B22XYZ12K3','done','restore requested; a later run deletes it once restored');
INSERT INTO "audit" VALUES(8,'2026-11-25T12:00:02Z','ca6e97799afa1074','delete-basespace-datasets','delete','bssh.dataset','ds.d2e5d2b64a1cee93732c8af909577e92','M-120-001_L001','done','moved to the BaseSpace trash');
INSERT INTO "audit" VALUES(9,'2026-11-25T12:00:02Z','8fde377a7097200c','delete-basespace-datasets','delete','bssh.dataset','ds.855d496b896a13a9802f297c9870b1c7','Phix_L001','done','moved to the BaseSpace trash');
INSERT INTO "audit" VALUES(10,'2026-11-25T12:00:02Z','997cc1d1b0e201ca','delete-basespace-runs','delete','bssh.run','300000064','260727_A01536_0064_AHWWX2DSX7','done','moved to the BaseSpace trash');
INSERT INTO "audit" VALUES(11,'2026-11-25T12:00:02Z','ddf8cfc46b7fdfc6','delete-ica-outputs','unarchive','ica.data','fol.bcba2cc6939f374a95a568b8d67a464d','output','done','unarchive requested; a later run deletes it once available');
INSERT INTO "audit" VALUES(12,'2026-11-25T12:00:02Z','daeb17a63e748f68','delete-ica-outputs','delete','ica.data','fol.d2f9dd4514fa8811572141e175043a84','output','done','delete requested');
INSERT INTO "audit" VALUES(13,'2026-11-25T12:00:02Z','d341665e7edd6d04','handoff-mgi-fastqs','link','ica.data','fil.6692db1f4170c6c39d04e0065c114632','M-123-345_S1_L001_I1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(14,'2026-11-25T12:00:02Z','7045eb82fda9a1f5','handoff-mgi-fastqs','link','ica.data','fil.56d48b211c3c73b4a98ff8a43df1ebbc','M-123-345_S1_L001_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(15,'2026-11-25T12:00:02Z','8459fde3788f31fd','handoff-mgi-fastqs','link','ica.data','fil.9026cbc6cc9a7f3f607c3b4cf70fc7ab','M_123_4325_S2_L001_R1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(16,'2026-11-25T12:00:02Z','589b1f576202d036','handoff-mgi-fastqs','link','ica.data','fil.723ba4bfa87468128e8f2bd2d5df619d','M_123_4325_S2_L001_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(17,'2026-11-25T12:00:02Z','35824ab03ac242df','handoff-mgi-fastqs','link','ica.data','fil.4fc1aa2f4f21ee88cf1a9c788b6fbafc','M-123-345_S1_L002_R1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(18,'2026-11-25T12:00:02Z','45f598f7dc5307ea','handoff-mgi-fastqs','link','ica.data','fil.b81244f1b68ba319809e7699b0e5d877','M-123-345_S1_L002_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(19,'2026-11-25T12:00:02Z','a9303a95bdc7b5ff','handoff-mgi-fastqs','link','ica.data','fil.221332b12c2824d61ce99d5dd458cc82','M_123_4325_S2_L002_R1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(20,'2026-11-25T12:00:02Z','d3f5e9c0bb8ab897','handoff-mgi-fastqs','link','ica.data','fil.30814e23abb5449a303203fc4c382df1','M_123_4325_S2_L002_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(21,'2026-11-25T12:00:02Z','1c13b95fb57083c9','handoff-mgi-fastqs','link','ica.data','fil.3409e391d1b921884521d47620666b41','M-200-001_S1_L001_R1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(22,'2026-11-25T12:00:02Z','1485a3c71528ea15','handoff-mgi-fastqs','link','ica.data','fil.8a0cd56c74a848e4c3256cd73a2c4c82','M-200-001_S1_L001_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(23,'2026-11-25T12:00:02Z','c322e522e3a263fd','handoff-mgi-fastqs','link','ica.data','fil.8bebff666b10621963637c7656243a40','M_200_002_S2_L001_R1_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(24,'2026-11-25T12:00:02Z','bbcc7cce37de4b75','handoff-mgi-fastqs','link','ica.data','fil.08cf22014d7cca3a6ac975030b233992','M_200_002_S2_L001_R2_001.fastq.gz','done','linked into Ken_demos');
INSERT INTO "audit" VALUES(25,'2026-11-25T12:00:02Z','1b9109f0bd4cdb28','handoff-mgi-fastqs','manifest','ica.analysis','5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','20261119_LH00619_0021_B22CCFJLT4_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','done','wrote /fastq_manifests/20261119_LH00619_0021_B22CCFJLT4_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81.download_manifest.csv (9 rows, 2648 bytes)');
INSERT INTO "audit" VALUES(26,'2026-11-25T12:00:02Z','c032bafeec2b5e7d','handoff-mgi-fastqs','manifest','ica.analysis','8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','261114_A01536_0088_AHXXKJDSX7_a1b2c3_d4e5f6-BclConvert_v4_1_23_patch1-8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','done','wrote /fastq_manifests/261114_A01536_0088_AHXXKJDSX7_a1b2c3_d4e5f6-BclConvert_v4_1_23_patch1-8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62.download_manifest.csv (4 rows, 1183 bytes)');
INSERT INTO "audit" VALUES(27,'2026-11-25T12:00:02Z','fa62edabd9bec3b8','handoff-mgi-fastqs','mark_managed','ica.analysis','2e4a6c8e-0b1d-4f3a-8c5e-7d9f1b3d5e73','20261117_LH00412_0034_A22GHJKLM2_0c9d8e_7f6a5b-BclConvert_v4_1_23_patch1-2e4a6c8e-0b1d-4f3a-8c5e-7d9f1b3d5e73','done','recorded in the ledger');
INSERT INTO "audit" VALUES(28,'2026-11-25T12:00:02Z','7fb078b88be4a5e4','handoff-mgi-fastqs','mark_managed','ica.analysis','5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','20261119_LH00619_0021_B22CCFJLT4_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','done','recorded in the ledger');
INSERT INTO "audit" VALUES(29,'2026-11-25T12:00:02Z','f2dd6f16acda5206','handoff-mgi-fastqs','mark_managed','ica.analysis','8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','261114_A01536_0088_AHXXKJDSX7_a1b2c3_d4e5f6-BclConvert_v4_1_23_patch1-8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','done','recorded in the ledger');
CREATE TABLE cache (
    key       TEXT PRIMARY KEY,
    value     TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
INSERT INTO "cache" VALUES('bsshoutput|fil.dde2b73f87ecc7dbe5378d155ed6585a|"dde2b73f87ecc7dbe5378d155ed6585a"','{"Projects": {"OutputProject": {"Name": "MGI_2026_08"}}}','2026-12-01T23:42:40.608692Z');
INSERT INTO "cache" VALUES('bsshoutput|fil.860c0f713adb5c758facfa0ba6e02abb|"860c0f713adb5c758facfa0ba6e02abb"','{"Projects": {"OutputProject": {"Name": "MGI_2026_09"}}}','2026-12-01T23:42:40.654602Z');
CREATE TABLE managed (
    analysis_id TEXT PRIMARY KEY,
    reference   TEXT NOT NULL DEFAULT '',
    managed_at  TEXT NOT NULL,
    policy      TEXT NOT NULL,
    project_id  TEXT,
    source      TEXT
);
INSERT INTO "managed" VALUES('2e4a6c8e-0b1d-4f3a-8c5e-7d9f1b3d5e73','20261117_LH00412_0034_A22GHJKLM2_0c9d8e_7f6a5b-BclConvert_v4_1_23_patch1-2e4a6c8e-0b1d-4f3a-8c5e-7d9f1b3d5e73','2026-11-25T12:00:02Z','handoff-mgi-fastqs','0d6f3c2a-5b1e-4c7d-9a8f-2e4b6c8d0a11',NULL);
INSERT INTO "managed" VALUES('5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','20261119_LH00619_0021_B22CCFJLT4_3fa91c_07be2d-BclConvert_v4_1_23_patch1-5c1e7a90-3d2b-4f6e-8a1c-9b0d2e4f6a81','2026-11-25T12:00:02Z','handoff-mgi-fastqs','0d6f3c2a-5b1e-4c7d-9a8f-2e4b6c8d0a11',NULL);
INSERT INTO "managed" VALUES('8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','261114_A01536_0088_AHXXKJDSX7_a1b2c3_d4e5f6-BclConvert_v4_1_23_patch1-8b2d4f61-7a3c-4e5d-9f0a-1c2b3d4e5f62','2026-11-25T12:00:02Z','handoff-mgi-fastqs','0d6f3c2a-5b1e-4c7d-9a8f-2e4b6c8d0a11',NULL);
INSERT INTO "managed" VALUES('11111111-2222-4333-8444-555555555555','20250101_LH00001_0001_AXXXX','2026-12-01T23:42:53.011555Z','legacy-import',NULL,'t.txt');
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE INDEX audit_action ON audit(action_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('audit',29);
COMMIT;

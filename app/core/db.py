"""The vault database: peewee models on SQLCipher, schema version and migrations.

One `DatabaseProxy` is bound to every model; `open_database` initialises it for one vault,
so tests inject a temporary vault simply by opening one. Each thread gets its own SQLCipher
connection (peewee's default), keyed with the same raw 256-bit key.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.sqlcipher_ext import SqlCipherDatabase

from .errors import AuthenticationFailed, UnsupportedVaultVersion

log = logging.getLogger(__name__)

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class Setting(BaseModel):
    """Small key/value facts: the schema version, TOTP state, preferences."""

    key = CharField(primary_key=True)
    value = TextField()


class Photo(BaseModel):
    image_uid = CharField(index=True)
    sha256 = CharField(unique=True)  # of the original bytes: how duplicates are recognised
    filename = TextField()
    mime = CharField()
    size_bytes = IntegerField()
    width = IntegerField()
    height = IntegerField()
    taken_at = DateTimeField(index=True)
    taken_at_source = CharField()  # "exif" or "file": tells the user how far to trust the date
    imported_at = DateTimeField(index=True)


class Blob(BaseModel):
    """An encrypted file under blobs/: the original or a thumbnail of a photo.

    `wrapped_key` is the only copy of the blob's key (wrapped to the vault's X25519 key):
    deleting this row makes the blob file undecryptable even before the file is gone.
    """

    name = CharField(unique=True)  # random, so file names say nothing about the content
    photo = ForeignKeyField(Photo, backref="blobs", on_delete="CASCADE")
    kind = CharField()  # "original", "thumb_small", "thumb_large"
    wrapped_key = BlobField()
    size_bytes = IntegerField()

    class Meta:
        indexes = ((("photo", "kind"), True),)


class RecoveryCode(BaseModel):
    """One-time codes that stand in for an authenticator code; stored as keyed hashes."""

    code_hash = CharField(unique=True)
    used_at = DateTimeField(null=True)


class PhotoFingerprint(BaseModel):
    """Perceptual fingerprints of a vault photo (upright), for finding altered copies."""

    photo = ForeignKeyField(Photo, unique=True, backref="fingerprints", on_delete="CASCADE")
    pdq = BlobField()
    pdq_quality = IntegerField()


class Share(BaseModel):
    """One protected copy given to someone. Kept when the photo is deleted: it is the record
    of who received which copy."""

    share_id = CharField(unique=True)
    photo = ForeignKeyField(Photo, null=True, backref="shares", on_delete="SET NULL")
    image_uid = CharField()
    recipient = TextField()
    platform = TextField(null=True)
    created_at = DateTimeField(index=True)
    options = TextField()  # JSON: format, quality, what was stripped
    pixel_sha256 = CharField()
    width = IntegerField()
    height = IntegerField()
    pdq = BlobField()
    pdq_quality = IntegerField()


class PhotoFeatures(BaseModel):
    """Compact ORB keypoints + descriptors of a vault photo (local_features.LocalFeatures)."""

    photo = ForeignKeyField(Photo, unique=True, backref="features", on_delete="CASCADE")
    data = BlobField()


class FeatureVocabulary(BaseModel):
    """The binary centroids the leak scan's feature index files descriptors under
    (`leaks.feature_index`): derived data, trained on the vault's own descriptors."""

    centroids = BlobField()  # cells × 32 bytes
    trained_on = IntegerField()  # photos the vault had when it was trained
    created_at = DateTimeField()


class PhotoFeatureCells(BaseModel):
    """The vocabulary cell of each of a photo's stored descriptors (uint16 each, in the order of
    `PhotoFeatures.data`): what lets the feature index be rebuilt without assigning them again.
    Derived data; cells of another vocabulary are stale and computed again."""

    photo = ForeignKeyField(Photo, unique=True, backref="feature_cells", on_delete="CASCADE")
    vocabulary = IntegerField()  # a FeatureVocabulary id
    cells = BlobField()


class LeakMatch(BaseModel):
    """A copy of a vault photo found by a scan, with the evidence."""

    source = TextField()  # image URL or file path
    found_on = TextField(null=True)  # the page it was on
    photo = ForeignKeyField(Photo, null=True, backref="leaks", on_delete="SET NULL")
    share_id = CharField(null=True)
    method = CharField()  # metadata, watermark, pdq, features
    score = FloatField()
    pdq_distance = IntegerField(null=True)
    inliers = IntegerField(null=True)
    region = TextField(null=True)  # JSON corners in the found image, in its full-size pixels
    found_width = IntegerField(null=True)
    found_height = IntegerField(null=True)
    detail = TextField(default="")
    first_seen = DateTimeField(index=True)
    last_seen = DateTimeField()
    evidence = BlobField(null=True)  # small JPEG of the found image
    status = CharField(default="found")  # found -> drafted -> sent -> removed

    class Meta:
        indexes = ((("source", "photo"), False),)


class PageCapture(BaseModel):
    """A page a found copy was on, as one scan fetched it (leaks.capture.PageSnapshot): kept
    so a report shows what was there after removal. One per page per scan."""

    url = TextField()
    final_url = TextField(null=True)  # after redirects, when different
    http_status = IntegerField()
    server_date = TextField(null=True)  # the Date header, verbatim
    fetched_at = DateTimeField()  # UTC (unlike the local times elsewhere in this DB)
    sha256 = CharField()  # of the page bytes as fetched
    size_bytes = IntegerField()
    html_z = BlobField()  # zlib of the HTML, capped (capture.MAX_CAPTURED_HTML)
    truncated = BooleanField(default=False)


class CopyCapture(BaseModel):
    """One look at a found copy (leaks.capture.Capture): the hash of the bytes fetched, the
    HTTP facts, and the page capture it was on. Bounded history per copy (capture_store)."""

    match = ForeignKeyField(LeakMatch, backref="captures", on_delete="CASCADE")
    page = ForeignKeyField(PageCapture, null=True, backref="copies", on_delete="SET NULL")
    sha256 = CharField()
    size_bytes = IntegerField()
    fetched_at = DateTimeField(index=True)  # UTC
    http_status = IntegerField(null=True)  # None for a local file
    server_date = TextField(null=True)
    final_url = TextField(null=True)
    file_modified = DateTimeField(null=True)  # UTC, local files only
    signature = CharField(default="absent")  # capture.SignatureState


class UrlCache(BaseModel):
    """Schema history only: version 3 kept validators of fetched images here between sessions;
    version 5 drops the table (replayed ETags let a host recognise the user, like a cookie).
    Scans keep validators in memory for one session instead (Vault.scan)."""

    url = TextField(unique=True)
    etag = TextField(null=True)
    last_modified = TextField(null=True)
    findings = TextField()  # JSON list of the matches found then
    checked_at = DateTimeField()


class WatchedPlace(BaseModel):
    """A page, image address or folder the user wants re-checked (leaks.watch). Its address
    stays here, in the encrypted DB, and nowhere else (never in a log)."""

    source = TextField()
    depth = IntegerField(default=0)  # crawl.PageOptions, for a page
    max_pages = IntegerField(default=20)
    browser = BooleanField(default=False)
    every_hours = FloatField(default=24.0)
    created_at = DateTimeField()
    checked_at = DateTimeField(null=True)  # local time of the last finished check
    last_result = TextField(default="")  # JSON watch.WatchResult summary of the last check
    # JSON of what was already looked at: image address -> SHA-256 of what it served, or a
    # file's path -> [size, mtime_ns]. Never HTTP validators (those would act as a cookie).
    checked = TextField(default="{}")


class TakedownRequest(BaseModel):
    """A removal request for a found copy and where it stands."""

    match = ForeignKeyField(LeakMatch, backref="takedowns", on_delete="CASCADE")
    kind = CharField()  # deletion_link, imgur_api, notice
    contact = TextField()  # JSON TakedownContact (in the encrypted DB: links can be secrets)
    subject = TextField()
    text = TextField()
    html = TextField()
    mailto = TextField(null=True)
    status = CharField(default="drafted")  # drafted -> sent -> removed; or failed
    detail = TextField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField()


class LeakCase(BaseModel):
    """Every found copy on one site (its registrable domain): one case, one notice per site.
    Copies join their case by their address's site (`leaks.cases.site_of`), not by a column."""

    host = CharField(unique=True)
    created_at = DateTimeField()
    checked_at = DateTimeField(null=True)  # the last re-check of its addresses
    provider = TextField(null=True)  # JSON rdap.ProviderContact, once looked up


class CaseNotice(BaseModel):
    """One notice of a case: what it said, to whom, when it was sent, when it falls due."""

    case = ForeignKeyField(LeakCase, backref="notices", on_delete="CASCADE")
    kind = CharField()  # notices.LAWS key: take-it-down, dsa, copyright, search-delisting
    audience = CharField(default="site")  # site, provider (escalation), search
    recipient = TextField(default="")  # email address or form address
    subject = TextField()
    text = TextField()
    facts = TextField()  # JSON of what it was filled from (name, email, signature...): in the encrypted DB
    match_ids = TextField()  # JSON list: the copies it asks about
    status = CharField(default="drafted")  # drafted -> sent
    created_at = DateTimeField()
    updated_at = DateTimeField()
    sent_at = DateTimeField(null=True)
    due_at = DateTimeField(null=True)


class CaseReply(BaseModel):
    """What came back from a site or provider, as the user recorded it."""

    case = ForeignKeyField(LeakCase, backref="replies", on_delete="CASCADE")
    notice = ForeignKeyField(CaseNotice, null=True, backref="replies", on_delete="SET NULL")
    received_at = DateTimeField()
    outcome = CharField()  # removed, refused, more-info, other
    text = TextField(default="")


class Person(BaseModel):
    name = TextField(null=True)  # None until the user names them
    created_at = DateTimeField()


class Face(BaseModel):
    """A detected face. Descriptors (biometric data) live only here, in the encrypted DB."""

    photo = ForeignKeyField(Photo, backref="faces", on_delete="CASCADE")
    person = ForeignKeyField(Person, null=True, backref="faces", on_delete="SET NULL")
    box = TextField()  # JSON [left, top, right, bottom] in the large thumbnail's pixels
    descriptor = BlobField()  # float32[128]
    quality = FloatField()
    confirmed = BooleanField(default=False)  # placed by the user: never moved automatically
    rejected = BooleanField(default=False)  # "not a face" / "not this person": never assigned


class PhotoTag(BaseModel):
    photo = ForeignKeyField(Photo, backref="tags", on_delete="CASCADE")
    term = CharField(index=True)  # a category ("animals") or a fine label ("tabby", "cat")
    kind = CharField()  # "category" or "label"
    score = FloatField()


class PhotoAnalysis(BaseModel):
    """Marks a photo as analysed (tags, faces, sensitive flag) and keeps the flag."""

    photo = ForeignKeyField(Photo, unique=True, backref="analysis", on_delete="CASCADE")
    analyzed_at = DateTimeField()
    sensitive_score = FloatField(null=True)
    sensitive = BooleanField(default=False)  # the model's verdict
    sensitive_override = BooleanField(null=True)  # the user's, which wins when set


MODELS = [Setting, Photo, Blob, RecoveryCode, PhotoFingerprint, Share, PhotoFeatures, LeakMatch,
          TakedownRequest, Person, Face, PhotoTag, PhotoAnalysis, LeakCase, CaseNotice, CaseReply,
          PageCapture, CopyCapture, FeatureVocabulary, PhotoFeatureCells]
SCHEMA_VERSION_KEY = "schema_version"


# Each step takes the schema from version N-1 to N inside one transaction. New steps are only
# ever appended: a vault made by any earlier release can walk the chain to the current one.
# Steps name their tables explicitly, so later changes to a model don't rewrite history.
def _migrate_to_1(db: SqlCipherDatabase) -> None:
    db.create_tables([Setting, Photo, Blob, RecoveryCode])


def _migrate_to_2(db: SqlCipherDatabase) -> None:
    # Photos imported before version 2 get their fingerprints from Vault.index_fingerprints.
    db.create_tables([PhotoFingerprint, Share])


def _migrate_to_3(db: SqlCipherDatabase) -> None:
    # Photos imported before version 3 get their features from Vault.index_fingerprints.
    db.create_tables([PhotoFeatures, LeakMatch, UrlCache, TakedownRequest])


def _migrate_to_4(db: SqlCipherDatabase) -> None:
    # Photos of earlier versions are analysed by the indexing job (they have no PhotoAnalysis row).
    db.create_tables([Person, Face, PhotoTag, PhotoAnalysis])


def _migrate_to_5(db: SqlCipherDatabase) -> None:
    # ETag / Last-Modified validators replayed on later scans work like a cookie: a hostile host
    # could recognise the user across networks. They now live in memory for one session; the
    # stored ones go (secure_delete overwrites their pages).
    db.execute_sql("DROP TABLE IF EXISTS urlcache")


def _migrate_drop_unused_hashes(db: SqlCipherDatabase) -> None:
    # pHash and dHash were computed at import and stored, but nothing ever matched on them (the
    # leak scan uses PDQ and local features): the columns go. Vaults that reached version 2
    # after this change never had them, hence the check.
    for table in ("photofingerprint", "share"):
        columns = {row[1] for row in db.execute_sql(f"PRAGMA table_info({table})").fetchall()}
        for column in ("phash", "dhash"):
            if column in columns:
                db.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")


def _migrate_add_cases(db: SqlCipherDatabase) -> None:
    # Found copies group into cases by site. Existing copies join theirs when cases are first
    # listed (their case is derived from their address); existing per-copy removal requests
    # stay as they are and show in their copy's case.
    db.create_tables([LeakCase, CaseNotice, CaseReply])


def _migrate_add_captures(db: SqlCipherDatabase) -> None:
    # Copies found before version 8 have no captures: a report says so for them.
    db.create_tables([PageCapture, CopyCapture])


def _migrate_add_watch_list(db: SqlCipherDatabase) -> None:
    # The watch list starts empty.
    db.create_tables([WatchedPlace])


def _migrate_add_feature_index(db: SqlCipherDatabase) -> None:
    # The leak scan's feature index (issue 23). Derived data: existing photos get their cells
    # when the index is first built (leaks.feature_store).
    db.create_tables([FeatureVocabulary, PhotoFeatureCells])


MIGRATIONS: dict[int, Callable[[SqlCipherDatabase], None]] = {
    1: _migrate_to_1, 2: _migrate_to_2, 3: _migrate_to_3, 4: _migrate_to_4, 5: _migrate_to_5,
    6: _migrate_drop_unused_hashes, 7: _migrate_add_cases, 8: _migrate_add_captures,
    9: _migrate_add_watch_list, 10: _migrate_add_feature_index,
}
CURRENT_SCHEMA = max(MIGRATIONS)


def raw_key_pragma(key: bytes) -> str:
    # SQLCipher's raw-key syntax: the key is used directly, skipping its own PBKDF2, since the
    # key already comes from Argon2id + HKDF.
    return f"x'{key.hex()}'"


def open_database(path: Path, key: bytes) -> SqlCipherDatabase:
    """Open (creating if needed) and migrate the vault DB; binds the model proxy to it."""
    db = connect_database(path, key)
    database.initialize(db)
    migrate(db, path)
    return db


def connect_database(path: Path, key: bytes) -> SqlCipherDatabase:
    """A connection to a vault DB, checked to decrypt, not bound to the models (the vault's other
    slot reaches its database this way, raw SQL only); AuthenticationFailed under a wrong key."""
    db = SqlCipherDatabase(
        str(path),
        passphrase=raw_key_pragma(key),
        check_same_thread=False,
        pragmas={
            "cipher_memory_security": "ON",
            "journal_mode": "wal",
            "synchronous": "normal",  # WAL + NORMAL: durable at checkpoints, never corrupt
            "foreign_keys": 1,
            "secure_delete": "ON",  # deleted rows (wrapped keys) are overwritten, not just unlinked
            "busy_timeout": 10_000,
        },
    )
    try:
        db.connect()
        # A wrong key only shows when a page is read; this read makes it show here.
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
    except Exception as exc:  # sqlcipher3.DatabaseError: "file is not a database"
        db.close()
        log.debug("vault DB did not open: %s", type(exc).__name__)
        raise AuthenticationFailed("The vault database could not be decrypted.") from None
    return db


def schema_version(db: SqlCipherDatabase) -> int:
    if not Setting.table_exists():
        return 0
    row = Setting.get_or_none(Setting.key == SCHEMA_VERSION_KEY)
    return int(row.value) if row else 0


def migrate(db: SqlCipherDatabase, path: Path) -> None:
    version = schema_version(db)
    if version > CURRENT_SCHEMA:
        raise UnsupportedVaultVersion()
    if version == CURRENT_SCHEMA:
        return
    if version > 0:
        # Back up the (still encrypted) DB before changing its shape.
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(path, path.with_name(f"{path.name}.before-v{version + 1}.bak"))
    for step in sorted(n for n in MIGRATIONS if version < n <= CURRENT_SCHEMA):
        with db.atomic():
            MIGRATIONS[step](db)
            Setting.replace(key=SCHEMA_VERSION_KEY, value=str(step)).execute()
        log.info("vault schema migrated to version %d", step)


def get_setting(key: str, default: str | None = None) -> str | None:
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row else default


def put_setting(key: str, value: str) -> None:
    Setting.replace(key=key, value=value).execute()

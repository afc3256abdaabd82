// SPDX-License-Identifier: MIT
#include "workspace.h"

#include "bounce.h"
#include "classifier.h"
#include "dmarc.h"
#include "importer.h"
#include "replyparser.h"
#include "replytemplate.h"
#include "sqlite.h"
#include "text.h"

#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <glib.h>
#include <malloc.h>
#include <map>
#include <sqlite3.h>
#include <sstream>
#include <unistd.h>
#include <unordered_set>

namespace bt
{

struct Workspace::Connection {
    sql::Database db;
    /// Set by interrupt(): every statement of the connection stops, also one begun after it.
    std::atomic<bool> stopped {false};
    // Declared after the connection, so that they are finalized before it closes.
    std::optional<sql::Statement> insertEvent;
    std::optional<sql::Statement> insertReject;
    std::optional<sql::Statement> findTemplate;
    std::optional<sql::Statement> insertTemplate;
};
namespace
{

// Each step takes the schema from version N-1 to N. Never edit a released step: add one.
constexpr const char* kMigrations[] = {
    // 1: events, imports, rejects, templates, full-text search over replies.
    R"sql(
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT '',
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL DEFAULT 'running',   -- running, done, cancelled, failed
    rows_read INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicate INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX imports_sha256 ON imports(sha256);

CREATE TABLE templates (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

-- original_recipient: added by step 11 to files made before it. A new file has it from here and
-- step 11 is skipped: its ALTER TABLE of the search index's content table left the creating
-- connection failing "no such table: events" on a DELETE once another process had changed the
-- schema (SQLite 3.40; BulkLoadKilled.ItsUnindexedRowsAreFound…).
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    source TEXT,
    timestamp TEXT,
    recipient TEXT,
    recipient_domain TEXT,
    provider TEXT,
    sending_ip TEXT,
    envelope_sender TEXT,
    from_domain TEXT,
    campaign TEXT,
    message_id TEXT,
    remote_mta TEXT,
    smtp_stage TEXT,
    reason_hint TEXT,      -- a reason the source itself stated (kept for re-diagnosis)
    filtering_gateway INTEGER NOT NULL DEFAULT 0,
    reply_text TEXT,
    basic_code INTEGER,
    enhanced_code TEXT,
    reason TEXT,
    family TEXT,
    spam_related TEXT,
    action TEXT,
    hard_bounce INTEGER NOT NULL DEFAULT 0,
    rule_ids TEXT,
    evidence TEXT,
    template_id INTEGER REFERENCES templates(id),
    source_file TEXT,
    source_line INTEGER,
    source_offset INTEGER,
    raw TEXT,
    original_recipient TEXT
);
-- Every grouping and filter of the UI and the CLI report.
CREATE INDEX events_time ON events(timestamp);
CREATE INDEX events_provider ON events(provider, timestamp);
CREATE INDEX events_domain ON events(recipient_domain, timestamp);
CREATE INDEX events_ip ON events(sending_ip, timestamp);
CREATE INDEX events_campaign ON events(campaign);
CREATE INDEX events_template ON events(template_id);
CREATE INDEX events_family ON events(family, timestamp);
CREATE INDEX events_reason ON events(reason);
CREATE INDEX events_codes ON events(basic_code, enhanced_code);
CREATE INDEX events_type ON events(event_type, timestamp);
CREATE INDEX events_recipient ON events(recipient);
CREATE INDEX events_import ON events(import_id);

CREATE TABLE rejects (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    source_file TEXT,
    source_line INTEGER,
    source_offset INTEGER,
    reason TEXT NOT NULL,
    raw TEXT
);
CREATE INDEX rejects_import ON rejects(import_id);

CREATE VIRTUAL TABLE events_fts USING fts5(reply_text, content='events', content_rowid='id');
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF reply_text ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
)sql",
    // 2: answers of the DNS checks (issue 6), kept for their TTL; time in unix seconds.
    R"sql(
CREATE TABLE dns_cache (
    server TEXT NOT NULL,       -- resolver asked, "127.0.0.1:53"
    name TEXT NOT NULL,
    type TEXT NOT NULL,         -- A, AAAA, MX, TXT, PTR
    status TEXT NOT NULL,       -- ok, none, nxdomain
    detail TEXT NOT NULL DEFAULT '',
    records TEXT NOT NULL DEFAULT '[]',  -- JSON [[value, preference, ttl], ...]
    ttl INTEGER NOT NULL,
    checked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (server, name, type)
);
)sql",
    // 3: the triage window's counts by hour and field (bt::EventCube), kept so that opening a
    // large workspace needs no pass over its events; valid while the fingerprint matches.
    R"sql(
CREATE TABLE cube_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,   -- events count and highest id when it was built
    built_at TEXT NOT NULL,
    cube TEXT NOT NULL           -- JSON: dictionaries, cells, templates
);
)sql",
    // 4: the reply search finds any part of a word ("S3150" in "(AS3150)"): the full-text index
    // over replies is rebuilt with FTS5's trigram tokenizer (SQLite 3.34 and later).
    R"sql(
DROP TRIGGER IF EXISTS events_fts_insert;  -- a bulk import killed midway leaves it dropped
DROP TRIGGER IF EXISTS events_fts_delete;
DROP TRIGGER IF EXISTS events_fts_update;
DROP TABLE events_fts;
CREATE VIRTUAL TABLE events_fts USING fts5(reply_text, content='events', content_rowid='id', tokenize='trigram');
CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF reply_text ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
INSERT INTO events_fts(events_fts) VALUES ('rebuild');
)sql",
    // 5: send counts the user knows from the ESP (bt::importSendCounts): the "given" basis of a
    // provider's, campaign's or day's bounce rate where no source in the workspace records sends.
    R"sql(
CREATE TABLE IF NOT EXISTS send_counts (  -- IF NOT EXISTS: a file whose version was set back
    kind TEXT NOT NULL CHECK (kind IN ('provider', 'campaign', 'day')),
    key TEXT NOT NULL,
    sent INTEGER NOT NULL CHECK (sent >= 0),
    source TEXT NOT NULL DEFAULT '',   -- the file it came from
    added_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
)sql",
    // 6: a lean set of indexes on events (issue 16), chosen from EXPLAIN QUERY PLAN of the real
    // queries on 1M events: each index costs every import a sort (bulk) or a b-tree insert per
    // row, so only those a query plan uses stay. Composite (column, timestamp) where a filter is
    // paged in time order (the table's default sort, the details pane's siblings).
    //   kept    events_time, events_provider, events_domain, events_family: page, count and
    //           MIN/MAX under those filters; learnProviders' UPDATE … WHERE provider = ?.
    //   changed events_reason, events_template: + timestamp, so a reason drill-down or a
    //           template's siblings page without sorting every matching row.
    //   changed events_import: + event_type, so recordingImportsSql()'s probe for a delivery is
    //           one seek instead of a walk over the import's bounces; ON DELETE CASCADE uses it.
    //   new     events_delivered: deliveries only (partial), the "last/first delivery to a
    //           domain" look-ups of the lifted-block analyses; empty when no source records them.
    //   kept    events_recipient: no filter uses it, but the table's Recipient sort does
    //           (without it 8 s on 1M events, the window's sorts must stay interactive).
    //   dropped events_type (a handful of values: slower than a scan, and the planner took it
    //           for the delivery look-ups), events_codes, events_ip, events_campaign (their
    //           filters page by walking events_time; their filter-list choices scan the table).
    // ANALYZE: statistics, so the planner weighs the indexes by what they select.
    R"sql(
DROP INDEX IF EXISTS events_type;
DROP INDEX IF EXISTS events_codes;
DROP INDEX IF EXISTS events_ip;
DROP INDEX IF EXISTS events_campaign;
DROP INDEX IF EXISTS events_reason;
DROP INDEX IF EXISTS events_template;
DROP INDEX IF EXISTS events_import;
DROP INDEX IF EXISTS events_delivered;  -- a file whose version was set back has it
CREATE INDEX events_reason ON events(reason, timestamp);
CREATE INDEX events_template ON events(template_id, timestamp);
CREATE INDEX events_import ON events(import_id, event_type);
CREATE INDEX events_delivered ON events(recipient_domain, timestamp) WHERE event_type = 'delivered';
PRAGMA analysis_limit=1000;
ANALYZE;
)sql",
    // 7: DMARC aggregate reports (issue 14): a report per (org_name, report_id) — the same report
    // imported twice is a duplicate — its rows, and each row's DKIM and SPF results. The results
    // are a child table rather than a JSON column: correlating a bounce asks "DKIM fail with
    // selector s1 from this IP that day", a join on indexed columns, where JSON would need
    // json_each over every row of the day. Dates are ISO 8601 UTC like events.timestamp.
    // Everything hangs off the import (ON DELETE CASCADE), so removing a killed import removes
    // its reports as it removes its events.
    R"sql(
CREATE TABLE IF NOT EXISTS dmarc_reports (  -- IF NOT EXISTS: a file whose version was set back
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    org_name TEXT NOT NULL,
    email TEXT,
    extra_contact_info TEXT,
    report_id TEXT NOT NULL,
    date_begin TEXT NOT NULL,
    date_end TEXT NOT NULL,
    domain TEXT NOT NULL,          -- policy_published
    adkim TEXT,
    aspf TEXT,
    p TEXT,
    sp TEXT,
    pct INTEGER,
    fo TEXT,
    np TEXT,                       -- DMARCbis
    testing TEXT,                  -- DMARCbis
    discovery_method TEXT,         -- DMARCbis
    version TEXT,
    source_file TEXT,
    UNIQUE (org_name, report_id)
);
CREATE INDEX IF NOT EXISTS dmarc_reports_import ON dmarc_reports(import_id);
CREATE INDEX IF NOT EXISTS dmarc_reports_domain ON dmarc_reports(domain, date_begin);
CREATE TABLE IF NOT EXISTS dmarc_rows (
    id INTEGER PRIMARY KEY,
    report INTEGER NOT NULL REFERENCES dmarc_reports(id) ON DELETE CASCADE,
    source_ip TEXT NOT NULL,
    count INTEGER NOT NULL,
    disposition TEXT,
    dkim TEXT,                     -- policy_evaluated (aligned) results
    spf TEXT,
    reasons TEXT,
    header_from TEXT,
    envelope_from TEXT,
    envelope_to TEXT,
    source_line INTEGER
);
CREATE INDEX IF NOT EXISTS dmarc_rows_report ON dmarc_rows(report);
CREATE INDEX IF NOT EXISTS dmarc_rows_ip ON dmarc_rows(source_ip);
CREATE TABLE IF NOT EXISTS dmarc_auth (
    row_id INTEGER NOT NULL REFERENCES dmarc_rows(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,          -- document order within the row
    method TEXT NOT NULL CHECK (method IN ('dkim', 'spf')),
    domain TEXT,
    selector TEXT,                 -- DKIM
    scope TEXT,                    -- SPF: mfrom or helo
    result TEXT,
    human_result TEXT,
    PRIMARY KEY (row_id, seq)
) WITHOUT ROWID;
)sql",
    // 8: watched sources (read incrementally), alerts with their history, blocklist monitoring.
    R"sql(
CREATE TABLE IF NOT EXISTS watch_sources (  -- IF NOT EXISTS: a file whose version was set back
    id INTEGER PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,      -- maildir:/path, folder:/path, log:/path, imap(s)://user@host:port/Mailbox
    kind TEXT NOT NULL,            -- maildir, folder, log, imap
    added TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    options TEXT NOT NULL DEFAULT '{}',  -- JSON: what the user set (move_to, interval)
    state TEXT NOT NULL DEFAULT '{}',    -- JSON: where reading stopped (a log's file and offset, IMAP's UIDs)
    last_checked TEXT,             -- last time it was looked at
    last_read TEXT,                -- last time it gave something new
    last_error TEXT,               -- the last look's error, NULL when it went well
    failures INTEGER NOT NULL DEFAULT 0,  -- looks in a row that failed (the retry waits longer)
    items INTEGER NOT NULL DEFAULT 0,     -- messages, files or lines read through it
    events INTEGER NOT NULL DEFAULT 0     -- events imported through it
);
-- What a folder or maildir source has read, by file (a maildir message by its unique name).
CREATE TABLE IF NOT EXISTS watch_seen (
    source INTEGER NOT NULL REFERENCES watch_sources(id) ON DELETE CASCADE,
    item TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (source, item)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    raised TEXT NOT NULL,
    rule TEXT NOT NULL,            -- incident, rate, auth_share, listed, delisted
    subject TEXT NOT NULL,         -- what it is about: "provider Gmail", "ip 192.0.2.1", "domain example.com"
    mark TEXT NOT NULL,            -- what makes it the same alert again (an incident's first hour, a threshold and day)
    severity TEXT NOT NULL,        -- info, warning, critical
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload TEXT NOT NULL,         -- the alert as JSON, as the hook command receives it
    baseline INTEGER NOT NULL DEFAULT 0,  -- already true when watching began: recorded, never announced
    acknowledged TEXT,
    delivered TEXT,                -- JSON: how each way of announcing it went
    UNIQUE (rule, subject, mark)
);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts(raised);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
-- Sending IPs and domains checked against blocklists on a schedule.
CREATE TABLE IF NOT EXISTS monitored (
    name TEXT PRIMARY KEY,         -- an IP or a domain, lower case
    kind TEXT NOT NULL CHECK (kind IN ('ip', 'domain')),
    origin TEXT NOT NULL,          -- events (found in them) or hand (added by the user)
    added TEXT NOT NULL,
    last_checked TEXT
) WITHOUT ROWID;
-- Listed periods per name and list; delisted NULL while still listed.
CREATE TABLE IF NOT EXISTS listings (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    zone TEXT NOT NULL,
    listed TEXT NOT NULL,
    delisted TEXT,
    answer TEXT                    -- the list's A record and TXT reason when listed
);
CREATE INDEX IF NOT EXISTS listings_name ON listings(name, zone, listed);
)sql",
    // 9: the reply search index keeps up to 8 MB of new entries in memory before it writes them
    // out (FTS5's hashsize; the default is 1 MB). Each write-out is a segment that FTS5 merges
    // with the others later; with 1 MB, the 100 000 replies of a bulk batch made about a hundred
    // small segments, and merging them into an index that outgrew SQLite's page cache became
    // the import's main cost: 1 000 000 SendGrid rows took 69 s, their index batches growing
    // from 0.9 s to 10 s; with 8 MB 36 s, batches 0.5–2 s (2026-12-05, 2 cores). Memory: up to
    // 8 MB more while a connection writes events.
    R"sql(
INSERT INTO events_fts(events_fts, rank) VALUES ('hashsize', 8388608);
)sql",
    // 10: a bulk load indexes its rows for the search at its end, in one statement, not batch by
    // batch: FTS5's merges inside each 100 000-row batch were what made the import's memory grow
    // with the file (336 MB at 1M rows). Until then the index lacks the load's rows, and the
    // settings row 'search_index_upto' says so: events with a higher id are not in it (written in
    // the transaction that begins the load, removed in the one that fills the index). A load
    // killed midway leaves both: the next open to write fills the gap, or the first batch of an
    // import from a connection opened before. The triggers touch the index only for rows at or
    // below that mark: an external-content FTS5 table told to delete an entry it never held is
    // corrupted, and a row of the gap deleted or changed before the gap is filled must leave the
    // index alone (the fill reads what is there).
    R"sql(
DROP TRIGGER IF EXISTS events_fts_insert;
DROP TRIGGER IF EXISTS events_fts_delete;
DROP TRIGGER IF EXISTS events_fts_update;
CREATE TRIGGER events_fts_insert AFTER INSERT ON events
WHEN new.id <= COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'search_index_upto'), new.id) BEGIN
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events
WHEN old.id <= COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'search_index_upto'), old.id) BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
END;
CREATE TRIGGER events_fts_update AFTER UPDATE OF reply_text ON events
WHEN old.id <= COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'search_index_upto'), old.id) BEGIN
    INSERT INTO events_fts(events_fts, rowid, reply_text) VALUES ('delete', old.id, old.reply_text);
    INSERT INTO events_fts(rowid, reply_text) VALUES (new.id, new.reply_text);
END;
)sql",
    // 11: the address the sender mailed, when a bounce names another it was expanded or forwarded
    // to as the failed one (bt::BounceRecord::originalRecipient): the address a suppression list
    // must hold. NULL for every event before it (and for every source that names one address).
    // Only files made before it run it: step 1 makes a new file's events table with the column.
    R"sql(
ALTER TABLE events ADD COLUMN original_recipient TEXT;
)sql",
};

/// True when `step` is one "ALTER TABLE t ADD COLUMN c …" statement and table t has column c.
bool addsExistingColumn(sql::Database& db, std::string_view step)
{
    constexpr std::string_view kAlter = "ALTER TABLE ";
    step = text::trim(step);
    if (!step.starts_with(kAlter))
        return false;
    std::istringstream words {std::string(step.substr(kAlter.size()))};
    std::string table, add, column, name;
    if (!(words >> table >> add >> column >> name) || add != "ADD" || column != "COLUMN")
        return false;
    auto st = db.prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    st.bind(1, table);
    st.bind(2, name);
    return st.step();
}

/// The settings row of a bulk load's search-index gap (migration 10).
constexpr const char* kSearchGapKey = "search_index_upto";

std::string join(const std::vector<std::string>& v, char sep)
{
    std::string out;
    for (const auto& s : v) {
        if (!out.empty())
            out.push_back(sep);
        out += s;
    }
    return out;
}

/// True when a string needs no JSON escaping (printable ASCII without quote or backslash).
bool plainJson(std::string_view s)
{
    for (const char c : s)
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    return true;
}

std::string evidenceJson(const Diagnosis& d)
{
    // Written by hand (one per imported row): the same bytes nlohmann's dump gives (keys in
    // its order: end, rule, start); a rule id that would need escaping goes through nlohmann.
    std::string out = "[";
    for (const auto& e : d.evidence) {
        if (out.size() > 1)
            out += ',';
        out += "{\"end\":";
        out += std::to_string(e.end);
        out += ",\"rule\":";
        if (plainJson(e.rule)) {
            out += '"';
            out += e.rule;
            out += '"';
        } else {
            out += nlohmann::json(e.rule).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        out += ",\"start\":";
        out += std::to_string(e.start);
        out += '}';
    }
    out += ']';
    return out;
}

/// The secondary indexes the current schema gives table `events` (name, CREATE statement): the
/// migrations replayed into an in-memory database, so the list follows every later migration
/// with no second copy to keep in step. The UNIQUE dedup_key index is a constraint, not listed.
const std::vector<std::pair<std::string, std::string>>& schemaEventIndexes()
{
    static const auto list = [] {
        sql::Database mem(":memory:");
        for (const char* step : kMigrations)
            if (!addsExistingColumn(mem, step))
                mem.exec(step);
        std::vector<std::pair<std::string, std::string>> out;
        auto st = mem.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                              "AND sql IS NOT NULL ORDER BY name");
        while (st.step())
            out.emplace_back(st.text(0), st.text(1));
        return out;
    }();
    return list;
}

} // namespace

std::string nowUtc()
{
    return text::isoUtc(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

std::string fileSha256(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    GChecksum* sum = g_checksum_new(G_CHECKSUM_SHA256);
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0)
        g_checksum_update(sum, reinterpret_cast<const guchar*>(buf), static_cast<gssize>(in.gcount()));
    std::string hex = g_checksum_get_string(sum);
    g_checksum_free(sum);
    return hex;
}

namespace
{

/// True when this process may write `path` and its permission bits let someone: a file or
/// folder made read-only (chmod a-w) counts as read-only even for root, who could write anyway.
bool writable(const std::string& path)
{
    struct stat st = {};
    return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 0222) != 0 && ::access(path.c_str(), W_OK) == 0;
}

std::string folderOf(const std::string& path)
{
    const auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

/// SQLite's words for why a file is no workspace, said for a person. sql::Database's own
/// messages start with the path, which OpenError adds again.
std::string whyNotReadable(const std::string& path, const sql::Error& e)
{
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0)
        what.erase(0, path.size() + 2);
    if (what.find("file is not a database") != std::string::npos)
        return "is not a Bounce Triage workspace (SQLite: file is not a database)";
    if (what.find("malformed") != std::string::npos)
        return "is damaged or truncated (SQLite: " + what + ")";
    return "cannot be read: " + what;
}

/// A -wal with frames in it beside the file: the last writer did not close cleanly (the last
/// connection to close checkpoints and removes it), or one is writing now.
bool leftAJournal(const std::string& path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path + "-wal", ec);
    return !ec && size > 0;
}

} // namespace

void Workspace::useSmallCache()
{
    m_sql->db.exec("PRAGMA cache_size=-16384");
    m_sql->db.exec("PRAGMA temp_store=FILE");
}

void Workspace::interrupt()
{
    m_sql->stopped.store(true);
    sql::interrupt(m_sql->db.handle());
}

void Workspace::checkIntegrity(bool uncleanClose)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(m_path, ec);
    if (!uncleanClose && !ec && size > static_cast<std::uintmax_t>(kQuickCheckBytes))
        return;
    // quick_check: the structure of every page (b-tree pages, cell pointers, record headers,
    // free list), in one pass without comparing indexes to tables; a few rows of errors at most.
    std::string problems;
    int count = 0;
    try {
        auto st = m_sql->db.prepare("PRAGMA quick_check(3)");
        while (st.step()) {
            const std::string row = st.text(0);
            if (row == "ok")
                return;
            problems += (count++ ? "; " : "") + row;
        }
    } catch (const sql::Error& e) {
        throw OpenError(m_path, whyNotReadable(m_path, e));
    }
    throw OpenError(m_path,
                    "is damaged or truncated (SQLite's integrity check: " + problems
                        + "): its charts and tables would be incomplete; open a backup, or import the files again "
                          "into a new workspace");
}

Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

sql::Database& Workspace::db()
{
    return m_sql->db;
}

Workspace::Workspace(const std::string& path, Mode mode)
    : m_sql(std::make_unique<Connection>())
    , m_path(path)
    , m_mode(mode)
{
    if (mode == Mode::View)
        openForViewing();
    else
        openForWriting();
    // interrupt() is for a connection about to close (the window's lanes): sqlite3_interrupt
    // stops only the statements running at that moment, so a lane that was waiting for another
    // lane's search ran its own in full, and closing during a search took 254 and 445 ms on
    // 1M events (10 and 12 010 domains). Checked every 1 000 virtual machine steps: a load of one flag.
    sqlite3_progress_handler(
        m_sql->db.handle(), 1000,
        [](void* stopped) { return static_cast<std::atomic<bool>*>(stopped)->load(std::memory_order_relaxed) ? 1 : 0; },
        &m_sql->stopped);
    // A search reads the replies of a bulk load's rows that the index does not hold yet
    // (bt::matchingIds): bt_fold(reply) compares them in the index's case folding.
    sqlite3_create_function_v2(
        m_sql->db.handle(), "bt_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
        [](sqlite3_context* ctx, int, sqlite3_value** argv) {
            const auto* t = sqlite3_value_text(argv[0]);
            if (!t) {
                sqlite3_result_null(ctx);
                return;
            }
            const std::string folded = text::foldCase(std::string_view(
                reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_value_bytes(argv[0]))));
            sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
        },
        nullptr, nullptr, nullptr);
}

void Workspace::openForWriting()
{
    namespace fs = std::filesystem;
    const bool file = !m_path.empty() && m_path != ":memory:";
    if (file) {
        // Said before SQLite tries: it would open a write-protected file read-only without a
        // word and fail later with "attempt to write a readonly database".
        std::error_code ec;
        const auto st = fs::status(m_path, ec);
        if (fs::is_directory(st))
            throw OpenError(m_path, "is a folder, not a workspace file");
        const bool exists = fs::exists(st);
        if (exists && !fs::is_regular_file(st))
            throw OpenError(m_path, "is not a regular file");
        const std::string folder = folderOf(m_path);
        if (!fs::is_directory(folder, ec))
            throw OpenError(m_path, "its folder " + folder + " does not exist");
        if (exists && !writable(m_path))
            throw OpenError(m_path,
                            "the workspace file is read-only: it can be viewed, but importing into it needs "
                            "write permission");
        if (!writable(folder))
            throw OpenError(m_path,
                            "its folder " + folder
                                + " is read-only: writing a workspace creates its journal (-wal) beside it");
    }
    const bool uncleanClose = file && leftAJournal(m_path);
    try {
        m_sql->db = sql::Database(m_path, sql::Access::Create);
    } catch (const sql::Error& e) {
        throw OpenError(m_path, whyNotReadable(m_path, e));
    }
    if (m_sql->db.readOnly())
        throw OpenError(m_path, "SQLite opened the workspace read-only: importing into it needs write permission");
    try {
        // WAL: readers (the GUI) never wait for an import; NORMAL sync is crash-safe in WAL mode
        // (a killed process loses at most the open transaction, never the file).
        m_sql->db.exec("PRAGMA journal_mode=WAL");
        m_sql->db.exec("PRAGMA synchronous=NORMAL");
        m_sql->db.exec("PRAGMA foreign_keys=ON");
        // An import batch touches a dozen indexes and the full-text index: with SQLite's default
        // 2 MB cache the pages spill to the WAL again and again inside one transaction.
        m_sql->db.exec("PRAGMA cache_size=-131072");
        m_sql->db.exec("PRAGMA temp_store=MEMORY");
        // Our tables go into an empty database or a workspace, never into another program's.
        if (schemaVersion() == 0) {
            auto st = m_sql->db.prepare("SELECT COUNT(*) FROM sqlite_master");
            if (st.step() && st.int64(0) > 0)
                throw OpenError(m_path, "is an SQLite database of another program, not a Bounce Triage workspace");
        }
        // Before migrating: a schema change written into a damaged file would only damage it more.
        if (file)
            checkIntegrity(uncleanClose);
        migrate();
    } catch (const OpenError&) {
        throw;
    } catch (const sql::Error& e) {
        throw OpenError(m_path, whyNotReadable(m_path, e));
    }
    // A bulk import killed before it built its indexes again left them missing, and its rows
    // out of the search index. One still running (in another process) holds the lock and does
    // both itself when it ends.
    if ((!missingIndexes().empty() || hasSearchGap()) && lockBulk()) {
        try {
            sql::Transaction tx(m_sql->db);
            fillSearchGap();
            tx.commit();
            restoreIndexes();
        } catch (const sql::Error&) {
            // Busy: the workspace is complete without them, only slower to query (a search reads
            // the gap's replies itself); the next open or import retries.
        }
        unlockBulk();
    }
}

void Workspace::openForViewing()
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(m_path, ec);
    if (!fs::exists(st))
        throw OpenError(m_path, "no such file");
    if (fs::is_directory(st))
        throw OpenError(m_path, "is a folder, not a workspace file");
    if (!fs::is_regular_file(st))
        throw OpenError(m_path, "is not a regular file");
    if (::access(m_path.c_str(), R_OK) != 0)
        throw OpenError(m_path, "cannot be read (no read permission)");
    // SQLite reads an empty file as an empty database: say what it is instead.
    if (fs::file_size(m_path, ec) == 0)
        throw OpenError(m_path, "is empty, not a workspace");
    // A writable file in a writable folder: read and write, but with every write refused
    // (query_only), so that this connection, when it is the last to close, checkpoints and
    // removes the -wal and -shm that WAL reading needs while an import may run beside it
    // (a mode=ro connection cannot, and leaves them behind). Write-protected: mode=ro, and
    // immutable when the journal holds nothing, since no one can change the file and SQLite
    // then needs no -shm and creates nothing.
    const bool uncleanClose = leftAJournal(m_path);
    sql::Access access = sql::Access::ReadWrite;
    if (!writable(m_path) || !writable(folderOf(m_path))) {
        const auto wal = fs::file_size(m_path + "-wal", ec);
        access = !ec && wal > 0 ? sql::Access::ReadOnly : sql::Access::Immutable;
    }
    try {
        m_sql->db = sql::Database(m_path, access);
        if (access == sql::Access::ReadWrite)
            m_sql->db.exec("PRAGMA query_only=ON");
        m_sql->db.exec("PRAGMA cache_size=-131072");
        m_sql->db.exec("PRAGMA temp_store=MEMORY");
        const int version = schemaVersion();
        if (version > kSchemaVersion)
            throw OpenError(m_path,
                            "was written by a newer Bounce Triage (workspace schema version " + std::to_string(version)
                                + ", this program reads up to " + std::to_string(kSchemaVersion)
                                + "): update Bounce Triage");
        auto tables = m_sql->db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                        "('events', 'imports', 'rejects', 'templates')");
        if (!tables.step() || tables.int64(0) != 4)
            throw OpenError(m_path, "is an SQLite database but not a Bounce Triage workspace (no events table)");
        checkIntegrity(uncleanClose);
    } catch (const OpenError&) {
        throw;
    } catch (const sql::Error& e) {
        throw OpenError(m_path, whyNotReadable(m_path, e));
    }
}

Workspace::LockFile::~LockFile()
{
    if (fd >= 0)
        ::close(fd);
}

namespace
{

/// An exclusive flock on `lockPath` (created if missing) without waiting: the descriptor, or -1.
/// The holder before us unlinks the file when done: locked after that, ours is a file no one
/// else can find, so only the file still at the path counts.
int lockBeside(const std::string& lockPath)
{
    for (int attempt = 0; attempt < 3; ++attempt) {
        const int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return -1;
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd);
            return -1;
        }
        struct stat held = {};
        struct stat named = {};
        if (::fstat(fd, &held) == 0 && ::stat(lockPath.c_str(), &named) == 0 && held.st_ino == named.st_ino
            && held.st_dev == named.st_dev)
            return fd;
        ::close(fd);
    }
    return -1;
}

} // namespace

void Workspace::ImportLock::release()
{
    if (file.fd < 0)
        return;
    // Removed while still locked (see lockBeside); a killed holder leaves an empty file behind.
    ::unlink(path.c_str());
    ::close(file.fd);
    file.fd = -1;
}

bool Workspace::tryLockImports(const std::string& what, std::string& holder)
{
    if (m_importLock.file.fd >= 0)
        return true;
    if (m_path.empty() || m_path == ":memory:")
        return true; // no other process can reach it
    const std::string lockPath = m_path + "-import";
    const int fd = lockBeside(lockPath);
    if (fd < 0) {
        // Who holds it wrote a line into the file; read it for the message.
        std::ifstream in(lockPath);
        std::getline(in, holder);
        if (holder.empty())
            holder = "another process (" + lockPath + " is locked)";
        return false;
    }
    m_importLock.file.fd = fd;
    m_importLock.path = lockPath;
    const std::string line
        = "process " + std::to_string(::getpid()) + ", importing " + what + " since " + nowUtc() + "\n";
    if (::ftruncate(fd, 0) == 0 && ::write(fd, line.data(), line.size()) < 0) {
        // Only a note for others' messages: the lock itself holds.
    }
    return true;
}

void Workspace::unlockImports()
{
    m_importLock.release();
}

bool Workspace::lockBulk()
{
    // An advisory lock on a file beside the workspace (never on the database file itself:
    // closing a second descriptor of it would drop SQLite's own locks). The kernel releases it
    // when the process dies, SIGKILL included.
    if (m_bulkLock.fd >= 0)
        return true;
    if (m_path.empty() || m_path == ":memory:")
        return false;
    m_bulkLock.fd = lockBeside(m_path + "-bulk");
    return m_bulkLock.fd >= 0;
}

void Workspace::unlockBulk()
{
    if (m_bulkLock.fd < 0)
        return;
    // Removed while still locked (see lockBulk), so no empty file stays beside the workspace;
    // only a killed process leaves one, removed by the next open that takes the lock.
    ::unlink((m_path + "-bulk").c_str());
    ::close(m_bulkLock.fd);
    m_bulkLock.fd = -1;
}

std::vector<std::string> Workspace::missingIndexes()
{
    std::vector<std::string> missing;
    auto st = m_sql->db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?");
    for (const auto& [name, sql] : schemaEventIndexes()) {
        st.bind(1, name);
        if (!st.step())
            missing.push_back(name);
        st.reset();
    }
    return missing;
}

void Workspace::restoreIndexes()
{
    const auto missing = missingIndexes();
    if (missing.empty())
        return;
    sql::Transaction tx(m_sql->db);
    for (const auto& [name, sql] : schemaEventIndexes())
        if (std::find(missing.begin(), missing.end(), name) != missing.end())
            m_sql->db.exec(sql);
    tx.commit();
}

bool Workspace::hasSearchGap()
{
    auto st = m_sql->db.prepare("SELECT 1 FROM settings WHERE key = ?");
    st.bind(1, std::string_view(kSearchGapKey));
    return st.step();
}

bool Workspace::fillSearchGap()
{
    std::int64_t upto = 0;
    {
        auto st = m_sql->db.prepare("SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?");
        st.bind(1, std::string_view(kSearchGapKey));
        if (!st.step())
            return false;
        upto = st.int64(0);
    }
    // FTS5 keeps 16 MB of new entries before writing a segment, instead of the workspace's 8 MB
    // (migration 9), while it fills: fewer segments to merge. Filling 1M events' index in a
    // 1M-row import took 8 s with 32 MB, 10 s with 16 MB and 15 s with 8 MB; but 32 MB of
    // entries (and their buffers' slack) is more than a 100k-row import ever holds, so the
    // import's peak grew with its size (86 -> 95 MB from 100k to 1M rows), while 16 MB is
    // reached by both (86 -> 87 MB). A bigger page cache made the fill no faster.
    const sql::CacheLimit cache(m_sql->db, 16384);
    std::string hashsize;
    {
        auto st = m_sql->db.prepare("SELECT v FROM events_fts_config WHERE k = 'hashsize'");
        if (st.step())
            hashsize = st.text(0);
    }
    m_sql->db.exec("INSERT INTO events_fts(events_fts, rank) VALUES ('hashsize', 16777216)");
    // The rows as they are now: one of the gap changed or deleted since was left alone by the
    // triggers (migration 10). Straight into the index, not through the insert trigger, which the
    // mark still holds off until it goes in the same transaction.
    auto fill = m_sql->db.prepare(
        "INSERT INTO events_fts(rowid, reply_text) SELECT id, reply_text FROM events WHERE id > ? ORDER BY id");
    fill.bind(1, upto);
    fill.run();
    // Back to the workspace's own (FTS5's default, 1 MB, where none is set).
    auto back = m_sql->db.prepare("INSERT INTO events_fts(events_fts, rank) VALUES ('hashsize', ?)");
    back.bind(1, hashsize.empty() ? std::int64_t(1048576) : static_cast<std::int64_t>(std::stoll(hashsize)));
    back.run();
    auto clear = m_sql->db.prepare("DELETE FROM settings WHERE key = ?");
    clear.bind(1, std::string_view(kSearchGapKey));
    clear.run();
    return true;
}

bool Workspace::beginBulkLoad(std::int64_t bytes)
{
    // Keeping a dozen indexes up to date row by row costs more than building them once, by
    // sorting, when the file brings at least as many rows as the workspace holds (a bounce
    // export row is 100–200 bytes). Small imports into a big workspace stay row by row.
    constexpr std::int64_t kBytesPerRow = 200, kMinRows = 20000;
    const std::int64_t rows = bytes / kBytesPerRow;
    if (rows < kMinRows)
        return false;
    {
        auto st = m_sql->db.prepare("SELECT COALESCE(MAX(id), 0) FROM events");
        if (st.step() && st.int64(0) > rows)
            return false;
    }
    if (!lockBulk())
        return false; // another bulk import is running: row by row
    try {
        sql::Transaction tx(m_sql->db);
        for (const auto& [name, sql] : schemaEventIndexes())
            m_sql->db.exec("DROP INDEX IF EXISTS \"" + name + "\"");
        // The search index gets the load's rows at its end (endBulkLoad): committed with the
        // dropped indexes, before any of them, the mark of the rows it will lack until then. A
        // gap a killed load left (in a connection opened before it) stays and is filled with
        // this one's: its rows are often the very ones this import deletes and adds again.
        auto mark = m_sql->db.prepare(
            "INSERT OR IGNORE INTO settings(key, value) SELECT ?, COALESCE(MAX(id), 0) FROM events");
        mark.bind(1, std::string_view(kSearchGapKey));
        mark.run();
        tx.commit();
    } catch (const sql::Error&) {
        unlockBulk();
        return false; // a statement of the caller's still reads the table: rolled back, row by row then
    }
    m_bulkLoad = true;
    // Checkpoint (copy the WAL into the file, with an fsync each) every ~40 MB, not every 4 MB.
    m_sql->db.exec("PRAGMA wal_autocheckpoint=10000");
    // A 32 MB page cache for the batches, not the 128 MB of row-by-row imports: with the search
    // index out of them, the batches touch the events table's last pages and the dedup key's
    // index, and the bigger cache only held more of the latter. A fresh workspace's 1M-row
    // import peaked at 198-200 MB with 128 MB, 116 MB with 32 MB (64 MB: 129-136 MB), in
    // 47.3 s against 41.5 s (medians of 3, interleaved, load 2.4-3.4: within the noise); 100 000
    // rows 124 -> 92 MB, 2.90 -> 3.01 s. beginImport() sets the 128 MB back.
    m_sql->db.exec("PRAGMA cache_size=-32768");
    return true;
}

void Workspace::endBulkLoad()
{
    // The sorts of CREATE INDEX keep in memory as much as the page cache holds and spill the
    // rest to temporary files: a small cache and files, not memory, meanwhile, so memory stays
    // flat whatever the size of the table; the cache's pages go back to the system first.
    // 16 MB and one thread: building the 9 indexes of 1M events with sqlite3 took 7.6-7.8 s and
    // 38 MB at 16 MB, 8.9 s and 71 MB at 32 MB, 7.8-11.4 s and 94 MB at 32 MB with a second
    // sorter thread (PRAGMA threads=2, each thread sorting in memory of its own), 2 cores busy.
    // 4 MB since: a 16 MB cache is more than the sorts of a 100k-row load fill, so the import's
    // peak still grew with the rows (83 -> 87 MB from 100k to 1M at 4 MB, 86 -> 94 MB at 16 MB),
    // and the 9 indexes of a 1M-row import took 6 s at 4 MB, 7 s at 16 MB.
    m_sql->db.exec("PRAGMA temp_store=FILE");
    m_sql->db.exec("PRAGMA cache_size=-4096");
    m_sql->db.exec("PRAGMA shrink_memory");
    ::malloc_trim(0);
    m_bulkLoad = false;
    try {
        // The load's rows into the search index, in one statement, outside any batch of the
        // load (fillSearchGap: FTS5 writes a segment per 32 MB of entries and merges them).
        sql::Transaction tx(m_sql->db);
        fillSearchGap();
        tx.commit();
    } catch (const sql::Error&) {
        // The rows are all committed and the mark says what the index lacks: the next open or
        // import fills it, and a search meanwhile reads those replies itself.
    }
    try {
        restoreIndexes();
        // Statistics for the planner (sqlite_stat1): without them it takes any index whose
        // column the query names, however little it selects. analysis_limit samples each
        // index (about 1000 rows) instead of reading it whole: milliseconds at 1M events.
        m_sql->db.exec("PRAGMA analysis_limit=1000");
        m_sql->db.exec("ANALYZE");
    } catch (const sql::Error&) {
        // The rows are all committed; the next open builds what is missing.
    }
    unlockBulk();
    // Back to the settings of the constructor, but for the page cache: what follows a bulk load
    // (learning providers, the sending-IP note, the saved counts) reads the whole table once, and
    // filled the 128 MB again: 95 -> 229 MB after a 1M-row load, the import's peak. The next
    // import's batches get it back (beginImport).
    m_sql->db.exec("PRAGMA temp_store=MEMORY");
    m_sql->db.exec("PRAGMA wal_autocheckpoint=1000");
}

int Workspace::schemaVersion()
{
    auto st = m_sql->db.prepare("PRAGMA user_version");
    return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

std::int64_t Workspace::dataVersion()
{
    auto st = m_sql->db.prepare("PRAGMA data_version");
    return st.step() ? st.int64(0) : 0;
}

void Workspace::migrate()
{
    const int have = schemaVersion();
    constexpr int want = static_cast<int>(std::size(kMigrations));
    static_assert(want == kSchemaVersion);
    if (have > want)
        throw OpenError(m_path,
                        "was written by a newer Bounce Triage (workspace schema version " + std::to_string(have)
                            + ", this program reads up to " + std::to_string(want) + "): update Bounce Triage");
    for (int v = have; v < want; ++v) {
        sql::Transaction tx(m_sql->db);
        // A file whose version was set back (by hand, or an older program's repair) may hold a
        // column a step adds: SQLite has no ADD COLUMN IF NOT EXISTS, so such a step is skipped.
        if (!addsExistingColumn(m_sql->db, kMigrations[v]))
            m_sql->db.exec(kMigrations[v]);
        m_sql->db.exec("PRAGMA user_version=" + std::to_string(v + 1));
        tx.commit();
    }
}

bool Workspace::importedBefore(const std::string& sha256)
{
    auto st = m_sql->db.prepare("SELECT 1 FROM imports WHERE sha256 = ? AND status = 'done' LIMIT 1");
    st.bind(1, sha256);
    return st.step();
}

std::int64_t Workspace::beginImport(const std::string& file, std::int64_t size, const std::string& sha256,
                                    const std::string& format)
{
    // Never beside another import: the one that removed a live import's rows as "killed" (two
    // imports of the same file at once) is exactly what the lock prevents.
    if (std::string holder; !tryLockImports(file, holder))
        throw sql::Error(m_path + ": another import into this workspace is running (" + holder
                         + "); imports run one at a time");
    m_templateIds.clear(); // another connection may have changed the workspace since
    // The constructor's page cache for the batches, which a bulk load before left smaller.
    m_sql->db.exec("PRAGMA cache_size=-131072");
    sql::Transaction tx(m_sql->db);
    // The saved counts no longer hold once events come or go.
    m_sql->db.exec("DELETE FROM cube_cache");
    if (!sha256.empty()) {
        // A killed or failed run of the same content left part of its rows: take them out
        // (cascade) and start over, so the finished import's counts are those of one clean run.
        // Under the import lock, a `running` import is one whose process is gone.
        auto del = m_sql->db.prepare("DELETE FROM imports WHERE sha256 = ? AND status IN ('running', 'failed')");
        del.bind(1, sha256);
        del.run();
    }
    // Any other import still `running` is one whose process died (killed, or a full disk left no
    // room to say so): it claims nothing it did not commit, but it runs no more.
    m_sql->db.exec("UPDATE imports SET status = 'failed' WHERE status = 'running'");
    auto st = m_sql->db.prepare("INSERT INTO imports(file, size, sha256, format, started) VALUES (?, ?, ?, ?, ?)");
    st.bind(1, file).bind(2, size).bind(3, sha256).bind(4, format).bind(5, nowUtc());
    st.run();
    const auto id = m_sql->db.lastInsertId();
    tx.commit();
    return id;
}

std::int64_t Workspace::templateId(const std::string& text)
{
    if (text.empty())
        return 0;
    if (const auto it = m_templateIds.find(text); it != m_templateIds.end())
        return it->second;
    if (!m_sql->findTemplate)
        m_sql->findTemplate.emplace(m_sql->db.prepare("SELECT id FROM templates WHERE text = ?"));
    if (!m_sql->insertTemplate)
        m_sql->insertTemplate.emplace(m_sql->db.prepare("INSERT INTO templates(text) VALUES (?)"));
    m_sql->findTemplate->bind(1, text);
    std::int64_t id = 0;
    if (m_sql->findTemplate->step()) {
        id = m_sql->findTemplate->int64(0);
        m_sql->findTemplate->reset();
    } else {
        m_sql->findTemplate->reset();
        m_sql->insertTemplate->bind(1, text);
        m_sql->insertTemplate->run();
        id = m_sql->db.lastInsertId();
    }
    // Bounded: templates are few, but a reply whose variable part the masking misses makes
    // one per row.
    if (m_templateIds.size() >= 100000)
        m_templateIds.clear();
    m_templateIds.emplace(text, id);
    return id;
}

void Workspace::beginEventBatch()
{
    // A batch that began and never ended was rolled back: templates it added may be gone.
    if (m_batchOpen)
        m_templateIds.clear();
    {
        auto st
            = m_sql->db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_fts_insert'");
        m_ftsTrigger = st.step() ? st.text(0) : std::string();
    }
    if (!m_ftsTrigger.empty())
        m_sql->db.exec("DROP TRIGGER events_fts_insert");
    // Outside a bulk load, a gap a killed one left is filled before this batch adds rows: the
    // batch's own rows go in at its end, and the index must hold every row below them.
    if (!m_bulkLoad)
        fillSearchGap();
    auto st = m_sql->db.prepare("SELECT COALESCE(MAX(id), 0) FROM events");
    m_batchAfterId = st.step() ? st.int64(0) : 0;
    m_batchOpen = true;
}

void Workspace::abandonEventBatch()
{
    // Rolled back: the trigger dropped in the batch is back, and templates it added are gone.
    m_ftsTrigger.clear();
    m_batchOpen = false;
    m_templateIds.clear();
}

void Workspace::endEventBatch()
{
    if (!m_batchOpen)
        return;
    if (!m_ftsTrigger.empty()) {
        // What the trigger would have done, row for row (NULL replies included), in one
        // statement: FTS5 writes one segment for the batch instead of one per row. A bulk
        // load's rows are the gap its mark records, filled at its end (endBulkLoad): dropped
        // here too, the trigger spares every row the look-up of that mark.
        if (!m_bulkLoad) {
            auto fill = m_sql->db.prepare("INSERT INTO events_fts(rowid, reply_text) SELECT id, reply_text FROM "
                                          "events WHERE id > ? ORDER BY id");
            fill.bind(1, m_batchAfterId);
            fill.run();
        }
        m_sql->db.exec(m_ftsTrigger);
        m_ftsTrigger.clear();
    }
    m_batchOpen = false;
}

Workspace::Added Workspace::addEvent(std::int64_t importId, const Event& e)
{
    if (!m_sql->insertEvent)
        m_sql->insertEvent.emplace(m_sql->db.prepare(
            "INSERT OR IGNORE INTO events(dedup_key, import_id, event_type, source, timestamp, recipient, "
            "recipient_domain, provider, sending_ip, envelope_sender, from_domain, campaign, message_id, remote_mta, "
            "smtp_stage, reason_hint, filtering_gateway, reply_text, basic_code, enhanced_code, reason, family, "
            "spam_related, action, hard_bounce, rule_ids, "
            "evidence, template_id, source_file, source_line, source_offset, raw, original_recipient) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    auto& st = *m_sql->insertEvent;
    const auto& d = e.diagnosis;
    const auto tid = templateId(e.templateText);
    // Parameters in column order, one statement each: the position is the column's.
    int i = 0;
    const std::string_view texts1[]
        = {e.source,     e.timestamp, e.recipient, e.recipientDomain, e.provider,  e.sendingIp, e.envelopeSender,
           e.fromDomain, e.campaign,  e.messageId, e.remoteMta,       d.smtpStage, e.reasonHint};
    st.bind(++i, e.dedupKey);
    st.bind(++i, importId);
    st.bind(++i, e.eventType);
    for (const auto t : texts1)
        st.bindText(++i, t);
    st.bind(++i, e.filteringGateway ? 1 : 0);
    st.bindText(++i, e.replyText);
    st.bind(++i, e.basicCode);
    st.bindText(++i, e.enhancedCode);
    for (const auto t : {std::string_view(d.reason), std::string_view(d.family), std::string_view(d.spamRelated),
                         std::string_view(d.action)})
        st.bindText(++i, t);
    st.bind(++i, d.hardBounce ? 1 : 0);
    st.bindText(++i, join(d.ruleIds, ','));
    st.bind(++i, evidenceJson(d));
    if (tid)
        st.bind(++i, tid);
    else
        st.bindNull(++i);
    st.bindText(++i, e.sourceFile);
    st.bind(++i, e.sourceLine);
    st.bind(++i, e.sourceOffset);
    st.bindText(++i, e.raw);
    st.bindText(++i, e.originalRecipient);
    st.run();
    return m_sql->db.changes() > 0 ? Added::Imported : Added::Duplicate;
}

void Workspace::addReject(std::int64_t importId, const Reject& r)
{
    if (!m_sql->insertReject)
        m_sql->insertReject.emplace(
            m_sql->db.prepare("INSERT INTO rejects(import_id, source_file, source_line, source_offset, "
                              "reason, raw) VALUES (?,?,?,?,?,?)"));
    auto& st = *m_sql->insertReject;
    st.bind(1, importId).bindText(2, r.sourceFile).bind(3, r.sourceLine).bind(4, r.sourceOffset);
    st.bind(5, r.reason).bindText(6, r.raw);
    st.run();
}

Workspace::Added Workspace::addDmarcReport(std::int64_t importId, const DmarcReport& r)
{
    // A savepoint inside the batch: a statement failing half-way (a full disk) takes the whole
    // report back, never leaving a report with part of its rows.
    m_sql->db.exec("SAVEPOINT dmarc_report");
    try {
        auto report = m_sql->db.prepare(
            "INSERT OR IGNORE INTO dmarc_reports(import_id, org_name, email, extra_contact_info, report_id, "
            "date_begin, date_end, domain, adkim, aspf, p, sp, pct, fo, np, testing, discovery_method, version, "
            "source_file) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        int i = 0;
        report.bind(++i, importId);
        report.bind(++i, std::string_view(r.orgName));
        report.bindText(++i, r.email);
        report.bindText(++i, r.extraContactInfo);
        for (const auto* t : {&r.reportId, &r.begin, &r.end, &r.domain})
            report.bind(++i, std::string_view(*t));
        for (const auto* t : {&r.adkim, &r.aspf, &r.p, &r.sp})
            report.bindText(++i, *t);
        report.bind(++i, r.pct);
        for (const auto* t : {&r.fo, &r.np, &r.testing, &r.discoveryMethod, &r.version, &r.sourceFile})
            report.bindText(++i, *t);
        report.run();
        if (m_sql->db.changes() == 0) {
            m_sql->db.exec("RELEASE dmarc_report");
            return Added::Duplicate;
        }
        const auto reportRowId = m_sql->db.lastInsertId();
        auto row
            = m_sql->db.prepare("INSERT INTO dmarc_rows(report, source_ip, count, disposition, dkim, spf, reasons, "
                                "header_from, envelope_from, envelope_to, source_line) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
        auto auth = m_sql->db.prepare("INSERT INTO dmarc_auth(row_id, seq, method, domain, selector, scope, result, "
                                      "human_result) VALUES (?,?,?,?,?,?,?,?)");
        for (const auto& w : r.rows) {
            if (!w.problem.empty())
                continue;
            int k = 0;
            row.bind(++k, reportRowId);
            row.bind(++k, std::string_view(w.sourceIp));
            row.bind(++k, w.count);
            for (const auto* t :
                 {&w.disposition, &w.dkim, &w.spf, &w.reasons, &w.headerFrom, &w.envelopeFrom, &w.envelopeTo})
                row.bindText(++k, *t);
            row.bind(++k, w.line);
            row.run();
            const auto rowId = m_sql->db.lastInsertId();
            int seq = 0;
            for (const auto& a : w.auth) {
                int j = 0;
                auth.bind(++j, rowId);
                auth.bind(++j, ++seq);
                auth.bind(++j, std::string_view(a.method));
                for (const auto* t : {&a.domain, &a.selector, &a.scope, &a.result, &a.humanResult})
                    auth.bindText(++j, *t);
                auth.run();
            }
        }
        m_sql->db.exec("RELEASE dmarc_report");
    } catch (...) {
        try {
            m_sql->db.exec("ROLLBACK TO dmarc_report");
            m_sql->db.exec("RELEASE dmarc_report");
        } catch (...) {
            // SQLite rolled the whole transaction back already (a full disk): nothing to undo.
        }
        throw;
    }
    return Added::Imported;
}

void Workspace::updateImport(std::int64_t importId, const ImportCounts& c, const std::string& status)
{
    auto st = m_sql->db.prepare(
        "UPDATE imports SET rows_read = ?, imported = ?, rejected = ?, duplicate = ?, status = ? WHERE id = ?");
    st.bind(1, c.read).bind(2, c.imported).bind(3, c.rejected).bind(4, c.duplicate).bind(5, status).bind(6, importId);
    st.run();
}

void Workspace::finishImport(std::int64_t importId, const ImportCounts& c, const std::string& status)
{
    updateImport(importId, c, status);
    auto st = m_sql->db.prepare("UPDATE imports SET finished = ? WHERE id = ?");
    st.bind(1, nowUtc()).bind(2, importId);
    st.run();
    // The import is over: the next may begin. Inside a transaction, SQLite's write lock keeps it
    // out until this one commits.
    unlockImports();
}

std::int64_t Workspace::groupBrandsUnderOperators(const KnowledgeBase& kb)
{
    return groupBrandsUnderOperators(kb, 0);
}

std::int64_t Workspace::groupBrandsUnderOperators(const KnowledgeBase& kb, std::int64_t importId)
{
    // An e-mail's diagnosis names the brand it knew by its wording ("AOL"); every other way in
    // names the operator whose servers answered (providerFor). One name per operator, so a
    // provider's bounces are never split in two groups.
    std::int64_t changed = 0;
    sql::Transaction tx(m_sql->db);
    // Only one import's events when it is given: earlier events were grouped by their own import.
    auto st = m_sql->db.prepare(importId > 0 ? "UPDATE events SET provider = ?1 WHERE provider = ?2 AND import_id = ?3"
                                             : "UPDATE events SET provider = ?1 WHERE provider = ?2");
    for (const auto& p : kb.providers()) {
        if (p.operatorName.empty())
            continue;
        st.reset();
        st.bind(1, p.operatorName).bind(2, p.name);
        if (importId > 0)
            st.bind(3, importId);
        st.run();
        changed += m_sql->db.changes();
    }
    if (changed > 0)
        m_sql->db.exec("DELETE FROM cube_cache"); // the counts by provider changed under the same events
    tx.commit();
    return changed;
}

std::int64_t Workspace::learnProviders(const KnowledgeBase& kb)
{
    return learnProvidersOf(kb, 0);
}

std::int64_t Workspace::learnProviders(const KnowledgeBase& kb, std::int64_t importId)
{
    return learnProvidersOf(kb, importId);
}

std::int64_t Workspace::learnProvidersOf(const KnowledgeBase& kb, std::int64_t importId)
{
    const std::int64_t brands = groupBrandsUnderOperators(kb, importId);
    // Hosts seen per domain among events still without a provider's domain: a few thousand rows
    // at most (distinct pairs), read through the domain index.
    std::map<std::string, std::map<std::string, std::int64_t>> votes; // domain -> provider -> events
    if (importId > 0) {
        // One import: only its domains that no table knows (a company's domain: gmail.com's
        // events have their provider from the table already), each read through the domain
        // index with every event of it, earlier ones included. Domains as stored (importers
        // store them in lower case).
        // Its domains no table knows, and whether a host it saw for each names a provider.
        std::map<std::string, bool> domains;
        {
            // The distinct pairs gathered here, not by GROUP BY: SQLite groups by sorting every
            // row of the import, and the sorter (temp_store=MEMORY) held all of them: 42 MB at
            // 1M rows, the import's peak. The pairs are a few thousand at most.
            std::unordered_set<std::string> pairs;
            std::string key;
            auto st = m_sql->db.prepare("SELECT recipient_domain, remote_mta FROM events WHERE import_id = ? AND "
                                        "recipient_domain IS NOT NULL AND recipient_domain <> ''");
            st.bind(1, importId);
            while (st.step()) {
                const auto d = st.textView(0);
                const auto host = st.textView(1);
                key.assign(d);
                key += '\0';
                for (const char c : host)
                    key += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
                if (!pairs.insert(key).second)
                    continue;
                const std::string domain(d);
                if (!providerFor(kb, domain, {}).empty())
                    continue;
                bool& names = domains[domain];
                names = names || (!host.empty() && !providerFor(kb, {}, key.substr(d.size() + 1)).empty());
            }
        }
        auto hosts = m_sql->db.prepare("SELECT lower(remote_mta), COUNT(*) FROM events WHERE recipient_domain = ? AND "
                                       "remote_mta IS NOT NULL AND remote_mta <> '' GROUP BY 1");
        // An earlier event of the domain whose host named its provider: what taught the domain.
        auto learnt
            = m_sql->db.prepare("SELECT lower(remote_mta) FROM events WHERE recipient_domain = ? AND provider "
                                "IS NOT NULL AND provider <> '' AND remote_mta IS NOT NULL AND remote_mta <> '' "
                                "LIMIT 1");
        for (const auto& [d, hostNamesOne] : domains) {
            if (!hostNamesOne && m_unlearnable.contains(d))
                continue; // read before, nothing named a provider, and nothing here does
            if (!hostNamesOne) {
                // No host of this import names a provider: its events take the one an earlier
                // import taught the domain, if any (a whole vote would find the same).
                learnt.reset();
                learnt.bind(1, d);
                bool found = false;
                if (learnt.step())
                    if (const auto provider = providerFor(kb, {}, learnt.text(0)); !provider.empty()) {
                        votes[d][provider] = 1;
                        found = true;
                    }
                if (!found)
                    m_unlearnable.insert(d);
                continue;
            }
            m_unlearnable.erase(d);
            hosts.reset();
            hosts.bind(1, d);
            while (hosts.step())
                if (const auto provider = providerFor(kb, {}, hosts.text(0)); !provider.empty())
                    votes[d][provider] += hosts.int64(1);
        }
    } else {
        auto st = m_sql->db.prepare(
            "SELECT lower(recipient_domain), lower(remote_mta), COUNT(*) FROM events WHERE recipient_domain IS NOT "
            "NULL AND recipient_domain <> '' AND remote_mta IS NOT NULL AND remote_mta <> '' AND "
            "lower(recipient_domain) IN (SELECT DISTINCT lower(recipient_domain) FROM events WHERE provider IS NULL "
            "OR provider = '') GROUP BY 1, 2");
        while (st.step()) {
            // The host alone: the domain is in no table (else its events had a provider).
            const auto provider = providerFor(kb, {}, st.text(1));
            if (!provider.empty())
                votes[st.text(0)][provider] += st.int64(2);
        }
    }
    if (votes.empty())
        return brands;
    sql::Transaction tx(m_sql->db);
    auto update
        = m_sql->db.prepare(importId > 0 ? "UPDATE events SET provider = ? WHERE recipient_domain = ? AND "
                                           "(provider IS NULL OR provider = '')"
                                         : "UPDATE events SET provider = ? WHERE lower(recipient_domain) = ? AND "
                                           "(provider IS NULL OR provider = '')");
    std::int64_t changed = 0;
    for (const auto& [domain, byProvider] : votes) {
        const auto best = std::max_element(byProvider.begin(), byProvider.end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; });
        update.reset();
        update.bind(1, best->first).bind(2, domain);
        update.run();
        changed += m_sql->db.changes();
    }
    if (changed > 0)
        m_sql->db.exec("DELETE FROM cube_cache"); // the counts by provider changed under the same events
    tx.commit();
    return brands + changed;
}

std::vector<ImportInfo> Workspace::imports()
{
    std::vector<ImportInfo> out;
    auto st = m_sql->db.prepare(
        "SELECT id, file, size, sha256, format, started, COALESCE(finished, ''), status, rows_read, "
        "imported, rejected, duplicate FROM imports ORDER BY id");
    while (st.step()) {
        ImportInfo i;
        i.id = st.int64(0);
        i.file = st.text(1);
        i.size = st.int64(2);
        i.sha256 = st.text(3);
        i.format = st.text(4);
        i.started = st.text(5);
        i.finished = st.text(6);
        i.status = st.text(7);
        i.counts = {st.int64(8), st.int64(9), st.int64(10), st.int64(11)};
        out.push_back(std::move(i));
    }
    return out;
}

std::vector<Reject> Workspace::rejects(std::int64_t importId)
{
    std::vector<Reject> out;
    auto st
        = m_sql->db.prepare("SELECT COALESCE(source_file, ''), COALESCE(source_line, 0), COALESCE(source_offset, -1), "
                            "reason, COALESCE(raw, '') FROM rejects WHERE import_id = ? ORDER BY id");
    st.bind(1, importId);
    while (st.step())
        out.push_back({st.text(0), st.int64(1), st.int64(2), st.text(3), st.text(4)});
    return out;
}

std::int64_t Workspace::eventCount()
{
    auto st = m_sql->db.prepare("SELECT COUNT(*) FROM events");
    return st.step() ? st.int64(0) : 0;
}

std::int64_t Workspace::rediagnose(const Classifier& classifier)
{
    // Only the diagnosis columns change; the reply, its codes and the origin stay as imported.
    // The same refinements as at import (stage, the source's own reason) apply again.
    sql::Transaction tx(m_sql->db);
    m_sql->db.exec("DELETE FROM cube_cache"); // families and reasons are about to change
    auto read = m_sql->db.prepare(
        "SELECT e.id, COALESCE(e.reply_text, ''), e.basic_code, COALESCE(e.enhanced_code, ''), COALESCE(e.reason, ''), "
        "COALESCE(e.smtp_stage, ''), COALESCE(e.reason_hint, ''), e.filtering_gateway, i.format = ? "
        "FROM events e JOIN imports i ON i.id = e.import_id");
    read.bind(1, std::string(format::email));
    auto write
        = m_sql->db.prepare("UPDATE events SET reason = ?, family = ?, spam_related = ?, action = ?, hard_bounce = ?, "
                            "rule_ids = ?, evidence = ? WHERE id = ?");
    std::int64_t changed = 0;
    while (read.step()) {
        Reply r = parseReply(read.text(1));
        if (!read.isNull(2))
            r.basicCode = static_cast<int>(read.int64(2));
        // A derived status (X.0.9xx) came from the old reason: it must not decide the new one.
        if (const auto code = read.text(3); !code.empty() && code.find(".0.9") == std::string::npos)
            r.enhancedCode = code;
        r.smtpStage = read.text(5);
        // As at import: the reply of a bounce email is read by bounce emails' conventions.
        r.fromBounceEmail = read.int64(8) != 0;
        Diagnosis d = classifier.diagnose(r);
        const std::string hint = read.text(6);
        refineByContext(classifier, d, {r.smtpStage, hint, read.int64(7) != 0, r.enhancedCode});
        const std::string old = read.text(4);
        // The words alone say nothing now, but the old verdict came from text around the reply
        // (an NDR's own sentences) that is not stored apart: keep it.
        if (d.reason == "undefined" && !old.empty())
            continue;
        if (d.reason == old)
            continue;
        ++changed;
        write.bind(1, d.reason).bind(2, d.family).bind(3, d.spamRelated).bind(4, d.action);
        write.bind(5, d.hardBounce ? 1 : 0)
            .bind(6, join(d.ruleIds, ','))
            .bind(7, evidenceJson(d))
            .bind(8, read.int64(0));
        write.run();
    }
    tx.commit();
    return changed;
}

} // namespace bt

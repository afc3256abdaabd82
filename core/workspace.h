// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"
#include "sqlerror.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bt
{

namespace sql
{
class Database;
} // namespace sql

class KnowledgeBase;
struct DmarcReport;

class Classifier;

/// One delivery outcome for one recipient, with every field triage groups by, its diagnosis
/// and where it came from. What the workspace stores, one row of `events`.
struct Event {
    std::string eventType = "bounce"; ///< bounce, deferral, delivered, complaint, auto_reply, dropped
    std::string source; ///< the ESP or MTA whose export or log it came from
    std::string timestamp; ///< ISO 8601 UTC
    std::string recipient;
    /// The address the sender mailed, when the source names another it was expanded or
    /// forwarded to as the failed one (bt::BounceRecord::originalRecipient); empty otherwise.
    std::string originalRecipient;
    std::string recipientDomain;
    std::string provider; ///< mailbox provider or gateway
    std::string sendingIp;
    std::string envelopeSender;
    std::string fromDomain;
    std::string campaign; ///< campaign, tag or stream
    std::string messageId;
    std::string remoteMta;
    std::string replyText; ///< exactly as the source gave it
    std::optional<int> basicCode;
    std::string enhancedCode;
    Diagnosis diagnosis;
    std::string reasonHint; ///< a reason the source itself stated (ARF → feedback …)
    bool filteringGateway = false; ///< see BounceReport::filteringGateway
    std::string templateText; ///< replyText with its variable parts masked
    // Origin.
    std::string sourceFile;
    std::int64_t sourceLine = 0; ///< 1-based line of a text file, 0 when not line-based
    std::int64_t sourceOffset = -1; ///< byte offset in the file, -1 when unknown
    std::string raw; ///< the raw record (row, JSON object, log line or message)
    std::string dedupKey; ///< see Workspace::addEvent
};

/// A record that could not be imported, kept with its position and the reason.
struct Reject {
    std::string sourceFile;
    std::int64_t sourceLine = 0;
    std::int64_t sourceOffset = -1;
    std::string reason;
    std::string raw;
};

struct ImportCounts {
    std::int64_t read = 0;
    std::int64_t imported = 0;
    std::int64_t rejected = 0;
    std::int64_t duplicate = 0;
};

/// One row of `imports`.
struct ImportInfo {
    std::int64_t id = 0;
    std::string file, sha256, format, started, finished, status;
    std::int64_t size = 0;
    ImportCounts counts;
};

/// Why a workspace could not be opened, naming the file: what() is "<path>: <reason>".
class OpenError : public sql::Error
{
public:
    OpenError(std::string path, std::string reason)
        : sql::Error(path + ": " + reason)
        , m_path(std::move(path))
        , m_reason(std::move(reason))
    {
    }
    const std::string& path() const { return m_path; }
    const std::string& reason() const { return m_reason; }

private:
    std::string m_path;
    std::string m_reason;
};

/// The workspace: one plain SQLite file (WAL, foreign keys, versioned schema) holding events,
/// imports, rejected records and reply templates. Not thread-safe: one per thread.
class Workspace
{
public:
    /// Write: imports, re-diagnosis, the DNS cache. View: the window and the reports, which
    /// must leave the file exactly as it was (no migration, no cache, no index rebuilt).
    enum class Mode { Write, View };

    /// Write: opens or creates the file and migrates its schema to the current version; a
    /// write-protected file or folder is an OpenError naming the path. View: opens an existing
    /// workspace so that nothing is written to it — read-only (immutable when the file or its
    /// folder is write-protected, so that no -shm or -wal is needed), an older schema read as it
    /// is; anything that is not a workspace this program can read is an OpenError saying why.
    explicit Workspace(const std::string& path, Mode mode = Mode::Write);
    ~Workspace();
    Workspace(Workspace&&) noexcept;
    Workspace& operator=(Workspace&&) noexcept;

    static constexpr int kSchemaVersion = 11;
    /// Files up to this size get SQLite's structural check (PRAGMA quick_check) on every open; a
    /// bigger one only when its last writer did not close cleanly (a -wal left beside it), so that
    /// opening a multi-GB workspace stays quick. A damaged file is an OpenError ("is damaged"),
    /// not a window of blank charts. SQLite keeps no checksums: a flipped byte inside a stored
    /// text is not seen, one in the file's structure (page headers, cell pointers, records) is.
    static constexpr std::int64_t kQuickCheckBytes = 64 * 1024 * 1024;
    int schemaVersion();
    /// Changes whenever another connection (another process: `bouncetriage-cli watch`, an
    /// import) commits to the file (PRAGMA data_version): the window polls it to refresh.
    std::int64_t dataVersion();

    /// Imports into one workspace run one at a time, whichever process runs them: an advisory
    /// lock (flock on "<file>-import", released by the kernel when the process dies, SIGKILL
    /// included) held from the start of an import to its end. Takes it without waiting: true
    /// when taken (or already held); otherwise `holder` says who holds it ("process 123, importing
    /// FILE since TIME"). `what` is the file this import reads, for others to see.
    bool tryLockImports(const std::string& what, std::string& holder);
    /// Releases the import lock (also released by finishImport(), and when the Workspace goes).
    void unlockImports();

    /// Starts recording an import; takes the import lock if not already held, and throws
    /// sql::Error saying who holds it when another import runs. Under the lock no other import
    /// is alive, so an earlier import of the same content (sha256) that never finished — killed
    /// mid-file (still `running`) or stopped by an error such as a full disk (`failed`) — is
    /// removed first with everything it added, and running the import again completes it with
    /// the counts a clean run gives.
    std::int64_t beginImport(const std::string& file, std::int64_t size, const std::string& sha256,
                             const std::string& format);
    /// True when this content was already imported completely (a re-import adds nothing new).
    bool importedBefore(const std::string& sha256);
    enum class Added { Imported, Duplicate };
    /// Adds an event; a second event with the same dedup key (same file again, or overlapping
    /// exports) is a duplicate and adds nothing. The caller batches calls in transactions.
    Added addEvent(std::int64_t importId, const Event& e);
    void addReject(std::int64_t importId, const Reject& r);
    /// Adds a DMARC aggregate report with its rows and their results, all or nothing (inside the
    /// caller's batch transaction, under a savepoint); rows whose `problem` is set are left out
    /// (the importer rejects them). A report already stored with the same org name and report id
    /// is a duplicate and adds nothing. The caller batches calls in transactions.
    Added addDmarcReport(std::int64_t importId, const DmarcReport& r);
    /// Records the counts so far (called at each committed batch, so a killed import shows them).
    void updateImport(std::int64_t importId, const ImportCounts& c, const std::string& status);
    /// Records the final counts and status, and releases the import lock.
    void finishImport(std::int64_t importId, const ImportCounts& c, const std::string& status);
    /// Gives every event of a recipient domain that no provider table knows (a company domain at
    /// Microsoft 365, Google Workspace, Proofpoint…) the provider its MX or remote host names in
    /// any event of that domain: a Postfix line to the tenant's MX attributes the same domain's
    /// SendGrid and SES events too, imported before or after. The most frequent operator wins
    /// where hosts disagree. Returns the events changed; run after each import.
    std::int64_t learnProviders(const KnowledgeBase& kb);
    /// The same for the domains one import brought (what an import runs after itself): their
    /// events, earlier ones included, found through the domain index, so a watched log's look of
    /// a few lines costs a few lookups instead of a pass over the whole workspace. Domains are
    /// matched as stored (importers store them in lower case).
    std::int64_t learnProviders(const KnowledgeBase& kb, std::int64_t importId);
    /// Events whose provider is a brand whose mail another operator's servers take ("AOL",
    /// named by an e-mail's wording) count under that operator ("Yahoo"), as every other way in
    /// names them; the brand stays visible beside the domain (bt::brandFor). Returns the events
    /// changed; learnProviders() runs it first.
    std::int64_t groupBrandsUnderOperators(const KnowledgeBase& kb);
    /// The same for one import's events.
    std::int64_t groupBrandsUnderOperators(const KnowledgeBase& kb, std::int64_t importId);

    /// Event batches, called by the importer inside each of its batch transactions (begin right
    /// after BEGIN, end right before COMMIT). Between the two, the full-text index is not fed row
    /// by row by its trigger (each row would be its own FTS5 segment): the trigger is dropped and
    /// the batch's new rows are indexed with one statement at the end, when the trigger is
    /// created again. Both happen in the same transaction, so every committed state (and a
    /// SIGKILL mid-batch, which rolls the batch back) has the trigger and a complete index.
    /// In a bulk load the batch's rows are left to endBulkLoad() (the recorded gap, see
    /// beginBulkLoad()); outside one, a gap a killed bulk load left is filled first.
    void beginEventBatch();
    void endEventBatch();
    /// The open batch was rolled back (a failed statement or COMMIT): forget what it did.
    void abandonEventBatch();

    /// Bulk mode for an import of `bytes` that brings at least as many rows as the workspace
    /// holds: the secondary indexes of `events` are dropped (committed) and built again, by
    /// sorting, in endBulkLoad(). Returns false (nothing changed) when row-by-row upkeep is
    /// cheaper. Crash-safe: a process killed in between leaves the indexes missing and the next
    /// open builds them again (every open checks, see restoreIndexes(); not while a live bulk
    /// import holds the lock); the dedup key's UNIQUE index is never dropped, so duplicates are
    /// found all along. The load's rows go into the search index at its end, in one statement:
    /// the committed mark 'search_index_upto' (settings) says which rows it lacks meanwhile, so a
    /// killed load's gap is filled by the next open to write or the next import, and searches
    /// read the gap's replies themselves (bt::matchingIds).
    bool beginBulkLoad(std::int64_t bytes);
    void endBulkLoad();
    /// Secondary indexes of `events` the schema has and the file lacks (empty when complete).
    std::vector<std::string> missingIndexes();

    std::vector<ImportInfo> imports();
    std::vector<Reject> rejects(std::int64_t importId);
    std::int64_t eventCount();

    /// Re-runs the classifier on every stored reply after a rules update, rewriting only the
    /// diagnosis columns. Returns the number of events whose reason changed.
    std::int64_t rediagnose(const Classifier& classifier);

    /// The SQLite connection, for core's own queries: its type is private to core (the window and
    /// the CLI ask bt::Triage and the query functions, and CMake keeps core/private from them).
    sql::Database& db();
    /// For one of several read connections in one process (the window's lanes): a 16 MB page
    /// cache instead of the writer's 128 MB, and big sorts spilled to a temporary file, so that
    /// the process's memory stays flat on a million-event workspace.
    void useSmallCache();
    /// Makes the statement running on this connection stop at once (it fails with
    /// "interrupted"), and every statement begun after it: for a connection about to close.
    /// Callable from any thread while this Workspace exists.
    void interrupt();
    const std::string& path() const { return m_path; }
    /// Opened for viewing: writes fail (SQLite refuses them).
    bool viewOnly() const { return m_mode == Mode::View; }

private:
    std::int64_t learnProvidersOf(const KnowledgeBase& kb, std::int64_t importId); ///< 0: every domain
    void openForWriting();
    void openForViewing();
    void migrate();
    void restoreIndexes(); ///< builds every index of missingIndexes()
    /// Indexes for the search the events a bulk load left out of it (migration 10's gap), if any,
    /// and clears the mark. Inside the caller's write transaction. True when there was a gap.
    bool fillSearchGap();
    /// True when the workspace records such a gap.
    bool hasSearchGap();
    /// PRAGMA quick_check when the file is small or `uncleanClose`; throws OpenError when damaged.
    void checkIntegrity(bool uncleanClose);
    /// The bulk-load lock (flock on "<file>-bulk", removed when released), held from beginBulkLoad() to
    /// endBulkLoad(): an open that finds indexes missing rebuilds them only when no live bulk import holds it.
    bool lockBulk();
    void unlockBulk();
    std::int64_t templateId(const std::string& text);

    /// A descriptor closed (and its lock released) with its owner; movable like the Workspace.
    struct LockFile {
        int fd = -1;
        LockFile() = default;
        LockFile(LockFile&& o) noexcept
            : fd(std::exchange(o.fd, -1))
        {
        }
        LockFile& operator=(LockFile&& o) noexcept
        {
            std::swap(fd, o.fd);
            return *this;
        }
        ~LockFile();
    };

    /// The import lock: its file is removed when released, like the bulk-load lock's.
    struct ImportLock {
        LockFile file;
        std::string path;
        ImportLock() = default;
        ImportLock(ImportLock&&) noexcept = default;
        ImportLock& operator=(ImportLock&& o) noexcept
        {
            std::swap(file, o.file);
            std::swap(path, o.path);
            return *this;
        }
        ~ImportLock() { release(); }
        void release();
    };

    /// The connection and the statements kept prepared for imports (workspace.cpp), apart so
    /// that this header names no SQL type but the connection's.
    struct Connection;
    std::unique_ptr<Connection> m_sql;
    std::string m_path;
    Mode m_mode = Mode::Write;
    LockFile m_bulkLock;
    ImportLock m_importLock;
    /// Template text → id, so that a row costs no SELECT; cleared when a batch may have been
    /// rolled back (its new templates gone with it).
    std::unordered_map<std::string, std::int64_t> m_templateIds;
    /// Domains no table knows whose events, when last read by this connection, had no host that
    /// names a provider: a watcher's next look skips reading them again until a host does.
    std::unordered_set<std::string> m_unlearnable;
    std::string m_ftsTrigger; ///< the dropped trigger's SQL while a batch is open
    std::int64_t m_batchAfterId = 0; ///< the batch's new events have ids above this
    bool m_batchOpen = false;
    /// Between beginBulkLoad() and endBulkLoad(): batches leave the search index to the end.
    bool m_bulkLoad = false;
};

/// The SHA-256 of a file's bytes, hex; empty when it cannot be read.
std::string fileSha256(const std::string& path);
/// Now, as ISO 8601 UTC.
std::string nowUtc();

} // namespace bt

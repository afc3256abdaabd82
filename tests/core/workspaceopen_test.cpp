// SPDX-License-Identifier: MIT
// Opening a workspace (issue 13, item 4): viewing leaves the file exactly as it was (bytes,
// mtime, no -wal or -shm left or created), write-protected files and folders open for viewing,
// and every file that cannot be opened is an OpenError naming the path and saying why.
//
// Tests may run as root, whom chmod does not stop: the program honours the permission bits
// itself (a chmod a-w file or folder is read-only for it, root or not), and what is asserted is
// what the program did — the file's bytes and mtime unchanged, no -wal or -shm created — which
// holds for root too. Only "the kernel refuses the write" cannot be seen as root; that part is
// checked when not root.
#include "cube.h"
#include "importer.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace
{

namespace fs = std::filesystem;
const fs::path kData = BT_TEST_DATA;

using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;

/// What viewing must not change: the bytes (SHA-256), size and modification time.
struct FileState {
    std::string sha256;
    std::uintmax_t size = 0;
    std::int64_t mtimeNs = 0;

    static FileState of(const fs::path& p)
    {
        struct stat st = {};
        ::stat(p.c_str(), &st);
        return {bt::fileSha256(p.string()), fs::file_size(p),
                std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    }
    bool operator==(const FileState&) const = default;
};

bool exists(const fs::path& p, const char* suffix)
{
    return fs::exists(p.string() + suffix);
}

/// A workspace with events, closed: its writer, the last connection, removed -wal and -shm.
void makeWorkspace(const fs::path& path)
{
    bt::Workspace ws(path.string());
    const auto r = bt::importPath(ws, (kData / "sendgrid-bounces.csv").string(), classifier());
    ASSERT_GT(r.counts.imported, 0) << r.error;
}

/// Everything the window and the reports do on a viewed workspace.
void viewAndQuery(const fs::path& path, std::int64_t expectEvents)
{
    bt::Workspace ws(path.string(), bt::Workspace::Mode::View);
    EXPECT_TRUE(ws.viewOnly());
    EXPECT_EQ(ws.eventCount(), expectEvents);
    bool fromCache = true;
    const auto cube = bt::EventCube::buildCached(ws, &fromCache);
    EXPECT_FALSE(fromCache);
    EXPECT_EQ(cube.events(), expectEvents);
    // SQLite itself refuses a write through a viewing connection.
    EXPECT_THROW(ws.db().exec("DELETE FROM events"), bt::sql::Error);
    EXPECT_EQ(ws.eventCount(), expectEvents);
}

std::string openError(const fs::path& path, bt::Workspace::Mode mode)
{
    try {
        bt::Workspace ws(path.string(), mode);
    } catch (const bt::OpenError& e) {
        EXPECT_EQ(e.path(), path.string());
        return e.what();
    } catch (const std::exception& e) {
        return std::string("not an OpenError: ") + e.what();
    }
    return "(opened)";
}

bool isRoot()
{
    return ::geteuid() == 0;
}

} // namespace

TEST(WorkspaceOpen, ViewingWritesNothing)
{
    TempWorkspace t;
    makeWorkspace(t.path);
    ASSERT_FALSE(exists(t.path, "-wal"));
    ASSERT_FALSE(exists(t.path, "-shm"));
    std::int64_t events = 0;
    {
        bt::Workspace ws(t.path.string());
        events = ws.eventCount();
    }
    const auto before = FileState::of(t.path);
    viewAndQuery(t.path, events);
    EXPECT_EQ(FileState::of(t.path), before) << "viewing changed the file";
    EXPECT_FALSE(exists(t.path, "-wal")) << "viewing left a -wal beside the workspace";
    EXPECT_FALSE(exists(t.path, "-shm")) << "viewing left a -shm beside the workspace";
    // No summary (cube) was cached by viewing; an import's writer saves it.
    bt::Workspace writer(t.path.string());
    EXPECT_EQ(scalar(writer, "SELECT COUNT(*) FROM cube_cache"), 0);
    bt::EventCube::buildCached(writer);
    EXPECT_EQ(scalar(writer, "SELECT COUNT(*) FROM cube_cache"), 1);
}

TEST(WorkspaceOpen, OlderSchemaIsViewedAsItIsNotMigrated)
{
    TempWorkspace t;
    makeWorkspace(t.path);
    {
        // Schema step 2 as it was: no cube_cache yet.
        bt::Workspace ws(t.path.string());
        ws.db().exec("DROP TABLE cube_cache; PRAGMA user_version=2");
    }
    const auto before = FileState::of(t.path);
    {
        bt::Workspace ws(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(ws.schemaVersion(), 2);
        EXPECT_GT(bt::EventCube::buildCached(ws).events(), 0);
    }
    EXPECT_EQ(FileState::of(t.path), before);
    EXPECT_EQ(bt::Workspace(t.path.string()).schemaVersion(), bt::Workspace::kSchemaVersion)
        << "the next writer migrates it";
}

TEST(WorkspaceOpen, SchemaFiveMigratesToTheLeanIndexSet)
{
    TempWorkspace t;
    makeWorkspace(t.path);
    {
        // The indexes of `events` as schema step 1 made them (unchanged up to step 5).
        bt::Workspace ws(t.path.string());
        ws.db().exec(
            "DROP INDEX events_reason; DROP INDEX events_template; DROP INDEX events_import; "
            "DROP INDEX events_delivered; DROP TABLE IF EXISTS sqlite_stat1; "
            "CREATE INDEX events_ip ON events(sending_ip, timestamp); "
            "CREATE INDEX events_campaign ON events(campaign); CREATE INDEX events_template ON events(template_id); "
            "CREATE INDEX events_reason ON events(reason); "
            "CREATE INDEX events_codes ON events(basic_code, enhanced_code); "
            "CREATE INDEX events_type ON events(event_type, timestamp); "
            "CREATE INDEX events_import ON events(import_id); "
            "PRAGMA user_version=5");
    }
    const auto indexes = [&](bt::Workspace& ws) {
        std::vector<std::string> out;
        auto st = ws.db().prepare("SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'index' AND "
                                  "tbl_name = 'events' AND sql IS NOT NULL ORDER BY name");
        while (st.step())
            out.push_back(st.text(0));
        return out;
    };
    {
        bt::Workspace old(t.path.string(), bt::Workspace::Mode::View);
        EXPECT_EQ(old.schemaVersion(), 5) << "viewing never migrates";
        EXPECT_EQ(indexes(old).size(), 12u);
    }
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(ws.schemaVersion(), bt::Workspace::kSchemaVersion);
    const std::vector<std::string> lean = {
        "events_delivered CREATE INDEX events_delivered ON events(recipient_domain, timestamp) WHERE event_type = "
        "'delivered'",
        "events_domain CREATE INDEX events_domain ON events(recipient_domain, timestamp)",
        "events_family CREATE INDEX events_family ON events(family, timestamp)",
        "events_import CREATE INDEX events_import ON events(import_id, event_type)",
        "events_provider CREATE INDEX events_provider ON events(provider, timestamp)",
        "events_reason CREATE INDEX events_reason ON events(reason, timestamp)",
        "events_recipient CREATE INDEX events_recipient ON events(recipient)",
        "events_template CREATE INDEX events_template ON events(template_id, timestamp)",
        "events_time CREATE INDEX events_time ON events(timestamp)",
    };
    EXPECT_EQ(indexes(ws), lean);
    EXPECT_TRUE(ws.missingIndexes().empty());
    // The migration leaves statistics for the planner (ANALYZE).
    EXPECT_GT(scalar(ws, "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'events'"), 0);
    // A delivery probe and a template's siblings use the new composite indexes.
    const auto plan = [&](const std::string& sql) {
        std::string out;
        auto st = ws.db().prepare("EXPLAIN QUERY PLAN " + sql);
        while (st.step())
            out += st.text(3) + ";";
        return out;
    };
    EXPECT_NE(plan("SELECT 1 FROM events WHERE import_id = 1 AND event_type = 'delivered'").find("events_import"),
              std::string::npos);
    EXPECT_NE(plan("SELECT id FROM events e WHERE e.template_id = 1 ORDER BY e.timestamp DESC, e.id DESC LIMIT 5")
                  .find("events_template"),
              std::string::npos);
}

TEST(WorkspaceOpen, WriteProtectedFileOpensForViewing)
{
    TempWorkspace t;
    makeWorkspace(t.path);
    const auto events = bt::Workspace(t.path.string()).eventCount();
    fs::permissions(t.path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read); // chmod a-w
    const auto before = FileState::of(t.path);
    viewAndQuery(t.path, events);
    EXPECT_EQ(FileState::of(t.path), before);
    EXPECT_FALSE(exists(t.path, "-wal"));
    EXPECT_FALSE(exists(t.path, "-shm")) << "a read-only file is opened immutable: no -shm needed";
    // Importing into it is refused, naming the file.
    const auto why = openError(t.path, bt::Workspace::Mode::Write);
    EXPECT_NE(why.find(t.path.string()), std::string::npos) << why;
    EXPECT_NE(why.find("read-only"), std::string::npos) << why;
    EXPECT_EQ(FileState::of(t.path), before);
    if (!isRoot()) {
        std::ofstream probe(t.path, std::ios::app);
        EXPECT_FALSE(probe.good()) << "the kernel lets this user write a chmod a-w file";
    }
    fs::permissions(t.path, fs::perms::owner_write, fs::perm_options::add);
}

TEST(WorkspaceOpen, WorkspaceInAWriteProtectedFolderOpensForViewing)
{
    const fs::path dir = fs::temp_directory_path() / ("bt-rofolder-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path path = dir / "triage.btw";
    makeWorkspace(path);
    const auto events = bt::Workspace(path.string()).eventCount();
    fs::permissions(dir, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove); // chmod a-w on the folder
    const auto before = FileState::of(path);
    viewAndQuery(path, events);
    EXPECT_EQ(FileState::of(path), before);
    EXPECT_FALSE(exists(path, "-wal"));
    EXPECT_FALSE(exists(path, "-shm")) << "immutable=1: SQLite needs no -shm in a read-only folder";
    const auto why = openError(path, bt::Workspace::Mode::Write);
    EXPECT_NE(why.find(path.string()), std::string::npos) << why;
    EXPECT_NE(why.find("read-only"), std::string::npos) << why;
    if (isRoot()) {
        std::cout << "running as root: the kernel would let SQLite create files in the folder; the program's "
                     "own refusal and the absence of -wal/-shm were checked instead\n";
    } else {
        std::ofstream probe(dir / "probe");
        EXPECT_FALSE(probe.good()) << "the kernel lets this user create files in a chmod a-w folder";
    }
    fs::permissions(dir, fs::perms::owner_all);
    fs::remove_all(dir);
}

TEST(WorkspaceOpen, EveryFailureNamesThePathAndWhy)
{
    const fs::path dir = fs::temp_directory_path() / ("bt-broken-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    struct Case {
        fs::path path;
        std::string why;
    };
    std::vector<Case> cases;

    cases.push_back({dir / "missing.btw", "no such file"});
    fs::create_directories(dir / "folder.btw");
    cases.push_back({dir / "folder.btw", "is a folder"});
    std::ofstream(dir / "text.btw") << "550 5.1.1 user unknown\nthis is not a database, only text\n";
    cases.push_back({dir / "text.btw", "not a Bounce Triage workspace"});
    std::ofstream(dir / "empty.btw");
    cases.push_back({dir / "empty.btw", "is empty"});

    const fs::path newer = dir / "newer.btw";
    makeWorkspace(newer);
    bt::sql::Database(newer.string()).exec("PRAGMA user_version=99");
    cases.push_back({newer, "newer Bounce Triage"});

    const fs::path foreign = dir / "foreign.sqlite";
    bt::sql::Database(foreign.string()).exec("CREATE TABLE notes(x); INSERT INTO notes VALUES (1)");
    cases.push_back({foreign, "not a Bounce Triage workspace"});

    const fs::path truncated = dir / "truncated.btw";
    makeWorkspace(truncated);
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
    cases.push_back({truncated, "truncated"});

    for (const auto& c : cases) {
        const auto why = openError(c.path, bt::Workspace::Mode::View);
        EXPECT_NE(why.find(c.path.string()), std::string::npos) << why;
        EXPECT_NE(why.find(c.why), std::string::npos) << c.path << ": " << why;
    }
    // Writing is refused for the same files (a missing one is created: that is a new workspace).
    for (const auto& c : cases) {
        if (c.path.filename() == "missing.btw" || c.path.filename() == "empty.btw")
            continue;
        const auto why = openError(c.path, bt::Workspace::Mode::Write);
        EXPECT_NE(why.find(c.path.string()), std::string::npos) << why;
        EXPECT_NE(why.find(c.why), std::string::npos) << c.path << ": " << why;
    }
    {
        bt::sql::Database db(foreign.string());
        auto st = db.prepare("SELECT COUNT(*) FROM sqlite_master");
        ASSERT_TRUE(st.step());
        EXPECT_EQ(st.int64(0), 1) << "no workspace tables were added to another program's database";
    }
    fs::remove_all(dir);
}

TEST(WorkspaceOpen, AByteFlippedWorkspaceIsReportedAsDamaged)
{
    // Damage in any table's pages: the open says so (it used to open, and the window showed blank
    // charts), for viewing and for importing alike, and a copy left intact still opens.
    const fs::path dir = fs::temp_directory_path() / ("bt-flipped-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path good = dir / "good.btw";
    makeWorkspace(good);
    for (const char* object : {"events", "imports", "rejects", "templates", "events_provider"}) {
        for (const auto mode : {bt::Workspace::Mode::View, bt::Workspace::Mode::Write}) {
            const fs::path copy = dir / (std::string("flipped-") + object + ".btw");
            fs::copy_file(good, copy, fs::copy_options::overwrite_existing);
            testsupport::flipRootPageType(copy.string(), object);
            const auto why = openError(copy, mode);
            EXPECT_NE(why.find(copy.string() + ": is damaged"), std::string::npos) << object << ": " << why;
        }
    }
    EXPECT_EQ(openError(good, bt::Workspace::Mode::View), "(opened)");
    EXPECT_EQ(openError(good, bt::Workspace::Mode::Write), "(opened)");
    fs::remove_all(dir);
}

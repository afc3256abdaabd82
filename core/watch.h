// SPDX-License-Identifier: MIT
// Watched sources: where bounces arrive by themselves (a maildir or folder, an IMAP mailbox, a
// growing Postfix or Exim log), each added once to a workspace and then read incrementally.
// Where reading stopped is kept in the workspace (table watch_sources, schema step 8), so a
// restart reads on from there: no file, message or line is stored twice, none is skipped.
#pragma once

#include "importer.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bt
{

class Classifier;
class Workspace;

/// A source's address, as the user writes it:
///   maildir:/path, folder:/path, log:/var/log/mail.log,
///   imap://user@host[:port]/Mailbox (STARTTLS required), imaps://user@host[:port]/Mailbox.
struct SourceUri {
    std::string kind; ///< maildir, folder, log, imap
    std::string path; ///< maildir, folder, log: an absolute path
    std::string user, host, mailbox; ///< imap; mailbox "INBOX" when the URI names none
    int port = 0; ///< imap: 993 for imaps, 143 for imap when the URI names none
    bool implicitTls = false; ///< imaps://

    /// Throws std::invalid_argument saying what is wrong ("log: needs an absolute path").
    static SourceUri parse(const std::string& uri);
    /// The URI written the one way it is stored (a relative path made absolute, default ports).
    std::string text() const;
};

/// A watched source as the workspace records it.
struct WatchSource {
    std::int64_t id = 0;
    std::string uri, kind;
    std::string added;
    bool paused = false;
    std::string options; ///< JSON the user set: {"move_to": "Processed"} for IMAP
    std::string state; ///< JSON: where reading stopped
    std::string lastChecked, lastRead; ///< ISO UTC, empty when never
    std::string lastError; ///< the last look's error, empty when it went well
    int failures = 0; ///< looks in a row that failed
    std::int64_t items = 0; ///< files, messages or lines read through it
    std::int64_t events = 0; ///< events imported through it
};

/// Adds a source (its URI checked and written canonically); throws std::invalid_argument for a
/// bad URI or one already watched, std::runtime_error when the path does not exist.
/// `optionsJson`: a JSON object ({"move_to": "Processed"}).
std::int64_t addSource(Workspace& ws, const std::string& uri, const std::string& optionsJson = "{}");
std::vector<WatchSource> watchSources(Workspace& ws);
/// The source with this id ("3") or URI; nullopt when none.
std::optional<WatchSource> findSource(Workspace& ws, const std::string& idOrUri);
/// Removes a source and what it remembers (the events it imported stay). False when none.
bool removeSource(Workspace& ws, const std::string& idOrUri);
/// Pauses or resumes a source. False when none.
bool pauseSource(Workspace& ws, const std::string& idOrUri, bool paused);

/// What one look at a source found.
struct SourceRead {
    std::int64_t sourceId = 0;
    std::string uri;
    std::int64_t items = 0; ///< new files, messages or lines read
    ImportCounts counts; ///< of the events they held, summed over the imports
    std::vector<ImportResult> imports; ///< each import it ran (a rotated log's tail and the new file: two)
    std::string error; ///< empty when the look went well
    std::string note; ///< something to know that is no error ("the log was rotated (renamed)")
    /// Files left for a later look because they changed a moment ago (may still be written):
    /// the watcher looks again as soon as they have settled.
    std::int64_t settling = 0;
};

/// How sources are read.
struct WatchOptions {
    /// An IMAP source's password: asked when needed (a keyring, a prompt, an environment
    /// variable). Empty answer: the look fails with "no password".
    std::function<std::string(const WatchSource&)> password;
    /// Lines read before a followed log's new ones for their context (Postfix's sender lines).
    std::int64_t logContextBytes = 256 * 1024;
    /// A file in a folder source changed this recently is left for the next look (it may still
    /// be being written); maildir delivery is atomic and needs no wait.
    int settleSeconds = 2;
    ImportObserver* observer = nullptr;
};

/// Reads what is new in one source and imports it, then records where reading stopped. A
/// source whose look fails keeps its place: the next look tries again from there.
SourceRead readSource(Workspace& ws, const Classifier& classifier, const WatchSource& source,
                      const WatchOptions& options = {});
/// readSource() for every source that is not paused, in the order they were added.
std::vector<SourceRead> readSources(Workspace& ws, const Classifier& classifier, const WatchOptions& options = {});

/// The paths whose changes mean a source has something new: a maildir's new/ and cur/, a
/// folder (and its subfolders), a log's folder (a rotation makes a new file there). IMAP
/// sources have none (they are polled).
std::vector<std::string> changePaths(const std::vector<WatchSource>& sources);

/// Waits for a change under the sources' paths (inotify) so that `watch` reads a new bounce
/// within a second instead of at the next interval; the interval stays as the safety net (a
/// network file system that sends no events, a missed event).
class ChangeWaiter
{
public:
    explicit ChangeWaiter(const std::vector<std::string>& paths);
    ~ChangeWaiter();
    ChangeWaiter(const ChangeWaiter&) = delete;
    ChangeWaiter& operator=(const ChangeWaiter&) = delete;
    /// True when something changed within `ms` (then waits until `settleMs` pass quietly, two
    /// seconds at most, for the rest of a burst); false at the timeout, or at once when nothing
    /// could be watched.
    bool wait(int ms, int settleMs = 300);
    /// How many paths are watched.
    int watched() const { return m_watched; }

private:
    int m_fd = -1;
    int m_watched = 0;
};

} // namespace bt

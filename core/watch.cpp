// SPDX-License-Identifier: MIT
#include "watch.h"

#include "importers/input.h"
#include "importers/internal.h"
#include "sqlite.h"
#include "text.h"
#include "watchimap.h"
#include "workspace.h"

#include <nlohmann/json.hpp>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <set>
#include <stdexcept>
#include <unistd.h>

namespace bt
{

using nlohmann::json;
namespace fs = std::filesystem;

// ---- URIs -----------------------------------------------------------------------------------------

SourceUri SourceUri::parse(const std::string& uri)
{
    SourceUri u;
    const auto colon = uri.find(':');
    if (colon == std::string::npos || colon == 0)
        throw std::invalid_argument("\"" + uri
                                    + "\" is not a source: write maildir:/path, folder:/path, log:/path, "
                                      "imap://user@host/Mailbox or imaps://user@host/Mailbox");
    const std::string scheme = text::toLower(uri.substr(0, colon));
    std::string rest = uri.substr(colon + 1);
    if (scheme == "maildir" || scheme == "folder" || scheme == "log") {
        u.kind = scheme;
        if (rest.starts_with("//"))
            rest.erase(0, 2); // folder:///path, as a file URL would be written
        if (rest.empty())
            throw std::invalid_argument(scheme + ": needs a path (" + scheme + ":/path)");
        std::error_code ec;
        const fs::path p = fs::absolute(fs::path(rest), ec);
        u.path = (ec ? fs::path(rest) : p).lexically_normal().string();
        if (u.path.size() > 1 && u.path.back() == '/')
            u.path.pop_back();
        return u;
    }
    if (scheme == "imap" || scheme == "imaps") {
        u.kind = "imap";
        u.implicitTls = scheme == "imaps";
        if (!rest.starts_with("//"))
            throw std::invalid_argument(scheme + ": write " + scheme + "://user@host[:port]/Mailbox");
        rest.erase(0, 2);
        const auto slash = rest.find('/');
        std::string authority = rest.substr(0, slash);
        u.mailbox = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
        if (u.mailbox.empty())
            u.mailbox = "INBOX";
        const auto at = authority.rfind('@');
        if (at == std::string::npos || at == 0)
            throw std::invalid_argument(scheme + ": the URI names no user (" + scheme + "://user@host/Mailbox)");
        u.user = authority.substr(0, at);
        if (u.user.find(':') != std::string::npos)
            throw std::invalid_argument(scheme
                                        + ": a password does not belong in the URI (it would be stored in the "
                                          "workspace): it is asked for, or taken from the keyring");
        std::string hostPort = authority.substr(at + 1);
        // [IPv6]:port, host:port, host
        std::string portText;
        if (hostPort.starts_with('[')) {
            const auto close = hostPort.find(']');
            if (close == std::string::npos)
                throw std::invalid_argument(scheme + ": unclosed [ in the host");
            u.host = hostPort.substr(1, close - 1);
            if (close + 1 < hostPort.size() && hostPort[close + 1] == ':')
                portText = hostPort.substr(close + 2);
        } else if (const auto c = hostPort.rfind(':'); c != std::string::npos) {
            u.host = hostPort.substr(0, c);
            portText = hostPort.substr(c + 1);
        } else {
            u.host = hostPort;
        }
        if (u.host.empty())
            throw std::invalid_argument(scheme + ": the URI names no host");
        u.port = u.implicitTls ? 993 : 143;
        if (!portText.empty()) {
            int p = 0;
            for (const char ch : portText) {
                if (ch < '0' || ch > '9' || p > 65535)
                    throw std::invalid_argument(scheme + ": \"" + portText + "\" is not a port");
                p = p * 10 + (ch - '0');
            }
            if (p <= 0 || p > 65535)
                throw std::invalid_argument(scheme + ": \"" + portText + "\" is not a port");
            u.port = p;
        }
        return u;
    }
    throw std::invalid_argument("\"" + scheme
                                + ":\" is not a kind of source this program reads: maildir:, folder:, log:, "
                                  "imap:// or imaps://");
}

std::string SourceUri::text() const
{
    if (kind != "imap")
        return kind + ":" + path;
    const bool v6 = host.find(':') != std::string::npos;
    return std::string(implicitTls ? "imaps" : "imap") + "://" + user + "@" + (v6 ? "[" + host + "]" : host) + ":"
        + std::to_string(port) + "/" + mailbox;
}

// ---- The sources table ----------------------------------------------------------------------------

namespace
{

constexpr const char* kColumns = "id, uri, kind, added, paused, options, state, COALESCE(last_checked, ''), "
                                 "COALESCE(last_read, ''), COALESCE(last_error, ''), failures, items, events";

WatchSource rowSource(const sql::Statement& st)
{
    WatchSource s;
    s.id = st.int64(0);
    s.uri = st.text(1);
    s.kind = st.text(2);
    s.added = st.text(3);
    s.paused = st.int64(4) != 0;
    s.options = st.text(5);
    s.state = st.text(6);
    s.lastChecked = st.text(7);
    s.lastRead = st.text(8);
    s.lastError = st.text(9);
    s.failures = static_cast<int>(st.int64(10));
    s.items = st.int64(11);
    s.events = st.int64(12);
    return s;
}

void requireSchema(Workspace& ws)
{
    if (ws.schemaVersion() < 8)
        throw std::runtime_error("the workspace predates watched sources (schema " + std::to_string(ws.schemaVersion())
                                 + "): open it for writing once to update it");
}

} // namespace

std::int64_t addSource(Workspace& ws, const std::string& uri, const std::string& optionsJson)
{
    requireSchema(ws);
    const SourceUri u = SourceUri::parse(uri);
    json options;
    try {
        options = json::parse(optionsJson.empty() ? "{}" : optionsJson);
    } catch (const json::exception& e) {
        throw std::invalid_argument("source options are not JSON: " + std::string(e.what()));
    }
    if (!options.is_object())
        throw std::invalid_argument("source options must be a JSON object ({\"move_to\": \"Processed\"})");
    if (u.kind != "imap") {
        std::error_code ec;
        const auto status = fs::status(u.path, ec);
        if (!fs::exists(status))
            throw std::runtime_error(u.path + ": no such " + (u.kind == "log" ? "file" : "folder"));
        if (u.kind == "log" && fs::is_directory(status))
            throw std::runtime_error(u.path + ": is a folder; a log source is one file (folder:" + u.path
                                     + " reads the files of a folder)");
        if (u.kind != "log" && !fs::is_directory(status))
            throw std::runtime_error(u.path + ": is a file, not a folder (log:" + u.path + " follows a log)");
        if (u.kind == "maildir" && !fs::is_directory(fs::path(u.path) / "new", ec)
            && !fs::is_directory(fs::path(u.path) / "cur", ec))
            throw std::runtime_error(u.path + ": is no maildir (it has no new/ or cur/ folder); folder:" + u.path
                                     + " reads any folder's files");
    }
    const std::string canonical = u.text();
    if (findSource(ws, canonical))
        throw std::invalid_argument(canonical + " is already watched in this workspace");
    auto st = ws.db().prepare("INSERT INTO watch_sources (uri, kind, added, options) VALUES (?, ?, ?, ?)");
    st.bind(1, canonical).bind(2, u.kind).bind(3, nowUtc()).bind(4, options.dump());
    st.run();
    return ws.db().lastInsertId();
}

std::vector<WatchSource> watchSources(Workspace& ws)
{
    std::vector<WatchSource> out;
    if (ws.schemaVersion() < 8)
        return out; // an older workspace viewed as it is watches nothing
    auto st = ws.db().prepare(std::string("SELECT ") + kColumns + " FROM watch_sources ORDER BY id");
    while (st.step())
        out.push_back(rowSource(st));
    return out;
}

std::optional<WatchSource> findSource(Workspace& ws, const std::string& idOrUri)
{
    if (ws.schemaVersion() < 8)
        return std::nullopt;
    const bool numeric
        = !idOrUri.empty() && std::all_of(idOrUri.begin(), idOrUri.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::string uri = idOrUri;
    if (!numeric)
        try {
            uri = SourceUri::parse(idOrUri).text();
        } catch (const std::invalid_argument&) {
            // Looked up as written.
        }
    auto st = ws.db().prepare(std::string("SELECT ") + kColumns + " FROM watch_sources WHERE "
                              + (numeric ? "id = ?" : "uri = ?"));
    if (numeric)
        st.bind(1, static_cast<std::int64_t>(std::stoll(idOrUri)));
    else
        st.bind(1, uri);
    if (!st.step())
        return std::nullopt;
    return rowSource(st);
}

bool removeSource(Workspace& ws, const std::string& idOrUri)
{
    const auto s = findSource(ws, idOrUri);
    if (!s)
        return false;
    auto st = ws.db().prepare("DELETE FROM watch_sources WHERE id = ?");
    st.bind(1, s->id);
    st.run();
    return true;
}

bool pauseSource(Workspace& ws, const std::string& idOrUri, bool paused)
{
    const auto s = findSource(ws, idOrUri);
    if (!s)
        return false;
    auto st = ws.db().prepare("UPDATE watch_sources SET paused = ? WHERE id = ?");
    st.bind(1, paused ? 1 : 0).bind(2, s->id);
    st.run();
    return true;
}

// ---- Reading --------------------------------------------------------------------------------------

namespace detail
{

void addImport(SourceRead& r, ImportResult&& result)
{
    r.counts.read += result.counts.read;
    r.counts.imported += result.counts.imported;
    r.counts.rejected += result.counts.rejected;
    r.counts.duplicate += result.counts.duplicate;
    if (!result.error.empty() && r.error.empty())
        r.error = result.error;
    r.imports.push_back(std::move(result));
}

} // namespace detail

using detail::addImport;

namespace
{

/// A maildir message keeps its unique name when a mail client moves it from new/ to cur/ and
/// appends flags (":2,S"): that name is what was read.
std::string maildirKey(const fs::path& file)
{
    std::string name = file.filename().string();
    if (const auto colon = name.find(':'); colon != std::string::npos)
        name.erase(colon);
    return name;
}

// -- folder and maildir: new files --

void readFolder(Workspace& ws, const Classifier& classifier, const WatchSource& s, const SourceUri& u,
                const WatchOptions& o, SourceRead& r)
{
    const bool maildir = u.kind == "maildir";
    std::error_code ec;
    if (!fs::is_directory(u.path, ec))
        throw std::runtime_error(u.path + ": the folder is gone (or cannot be read)");
    // Every file there now and the key it is remembered by.
    std::vector<std::pair<std::string, std::string>> present; // key, path
    const auto now = fs::file_time_type::clock::now();
    auto consider = [&](const fs::path& file, const std::string& key) {
        if (!maildir && o.settleSeconds > 0) {
            const auto changed = fs::last_write_time(file, ec);
            if (!ec && now - changed < std::chrono::seconds(o.settleSeconds)) {
                ++r.settling; // still being written, perhaps: a look once it has settled takes it
                return;
            }
        }
        present.emplace_back(key, file.string());
    };
    if (maildir) {
        // tmp/ holds deliveries in progress: never read.
        for (const char* sub : {"new", "cur"}) {
            const fs::path dir = fs::path(u.path) / sub;
            if (!fs::is_directory(dir, ec))
                continue;
            for (const auto& entry : fs::directory_iterator(dir, ec))
                if (entry.is_regular_file(ec) && !entry.path().filename().string().starts_with('.'))
                    consider(entry.path(), maildirKey(entry.path()));
        }
    } else {
        for (const auto& file : detail::folderFiles(u.path))
            consider(file, fs::path(file).lexically_relative(u.path).string());
    }
    std::set<std::string> seen;
    {
        auto st = ws.db().prepare("SELECT item FROM watch_seen WHERE source = ?");
        st.bind(1, s.id);
        while (st.step())
            seen.insert(st.text(0));
    }
    std::vector<std::pair<std::string, std::string>> fresh;
    std::set<std::string> freshKeys;
    for (auto& [key, path] : present)
        if (!seen.contains(key) && freshKeys.insert(key).second)
            fresh.emplace_back(key, path);
    if (fresh.empty())
        return;
    std::sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    // A folder source's logs and exports are imported on their own, each with its format; its
    // e-mails together, as one import named by the folder.
    std::vector<std::string> emails;
    for (const auto& [key, path] : fresh) {
        if (!maildir && detail::ownInput(path))
            addImport(r, importPath(ws, path, classifier, o.observer));
        else
            emails.push_back(path);
    }
    if (!emails.empty()) {
        ImportOptions io;
        io.format = std::string(format::email);
        io.files = emails;
        addImport(r, importPath(ws, u.path, classifier, o.observer, nullptr, io));
    }
    // Remembered only once imported: a look that fails (a full disk) reads them again next time,
    // and what the failed look stored comes back as duplicates, never twice.
    if (!r.error.empty() || (!r.imports.empty() && r.imports.back().cancelled))
        return;
    sql::Transaction tx(ws.db());
    auto ins = ws.db().prepare("INSERT OR IGNORE INTO watch_seen (source, item, seen) VALUES (?, ?, ?)");
    const std::string at = nowUtc();
    for (const auto& [key, path] : fresh) {
        ins.bind(1, s.id).bind(2, key).bind(3, at);
        ins.run();
    }
    tx.commit();
    r.items += static_cast<std::int64_t>(fresh.size());
}

// -- log: new lines, across rotations --

/// The identity of a log file: its inode and the digest of its first bytes (up to one line or
/// 256 bytes), so a file replaced under the same inode number is not taken for the one read.
struct LogId {
    std::uint64_t dev = 0, ino = 0;
    std::string head; ///< sha1 of the first bytes
    std::int64_t headBytes = 0;
};

std::string headDigest(const std::string& path, std::int64_t bytes)
{
    if (bytes <= 0)
        return {};
    const std::string head = detail::readHead(path, static_cast<std::size_t>(bytes));
    if (static_cast<std::int64_t>(head.size()) < bytes)
        return {}; // shorter than what was read: not that file
    return detail::sha1(head);
}

/// Where reading of a log stopped, as kept in watch_sources.state.
struct LogState {
    LogId id;
    std::int64_t offset = 0, line = 1;
    bool started = false;
    std::string format;

    static LogState load(const std::string& s)
    {
        LogState st;
        const json j = json::parse(s.empty() ? "{}" : s, nullptr, false);
        if (!j.is_object() || !j.contains("offset"))
            return st;
        st.started = true;
        st.id.dev = j.value("dev", std::uint64_t(0));
        st.id.ino = j.value("ino", std::uint64_t(0));
        st.id.head = j.value("head", std::string());
        st.id.headBytes = j.value("head_bytes", std::int64_t(0));
        st.offset = j.value("offset", std::int64_t(0));
        st.line = j.value("line", std::int64_t(1));
        st.format = j.value("format", std::string());
        return st;
    }
    std::string dump() const
    {
        return json {{"dev", id.dev},    {"ino", id.ino}, {"head", id.head}, {"head_bytes", id.headBytes},
                     {"offset", offset}, {"line", line},  {"format", format}}
            .dump();
    }
};

/// The complete lines of `path`'s content from `from` on: where the last one ends and how many
/// there are. A line still being written (no line end yet) is left for the next look; so is
/// everything when `whole` is false and no line is complete.
std::pair<std::int64_t, std::int64_t> completeLines(const std::string& path, std::int64_t from, bool finished)
{
    detail::InputFile in(path);
    if (from > 0 && !in.seekg(from))
        return {from, 0};
    std::int64_t end = from, lines = 0, at = from;
    char buf[1 << 16];
    bool trailing = false; // bytes after the last line end
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        const auto n = in.gcount();
        for (std::streamsize i = 0; i < n; ++i)
            if (buf[i] == '\n') {
                ++lines;
                end = at + i + 1;
            }
        at += n;
        trailing = at > end;
    }
    // A finished file (rotated away, or compressed) ends its last line even without a line end.
    if (finished && trailing) {
        ++lines;
        end = at;
    }
    return {end, lines};
}

LogId identify(const std::string& path, const struct stat& sb, std::int64_t size)
{
    LogId id;
    id.dev = static_cast<std::uint64_t>(sb.st_dev);
    id.ino = static_cast<std::uint64_t>(sb.st_ino);
    // The first line, up to 256 bytes: enough to tell two logs apart by their first stamp.
    const std::string head = detail::readHead(path, 256);
    std::int64_t n = static_cast<std::int64_t>(head.find('\n'));
    n = n < 0 ? static_cast<std::int64_t>(head.size()) : n + 1;
    n = std::min(n, size);
    id.headBytes = n;
    id.head = headDigest(path, n);
    return id;
}

/// The file a log was rotated to: the first of path.1, path.0, path-* (dateext) and their .gz
/// whose first bytes are those of the file read, newest first.
std::string rotatedFile(const std::string& path, const LogId& was)
{
    std::vector<fs::path> candidates;
    const fs::path p(path);
    for (const char* suffix : {".1", ".0", ".1.gz", ".0.gz"})
        candidates.emplace_back(path + suffix);
    std::error_code ec;
    std::vector<fs::path> dated;
    for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with(p.filename().string() + "-"))
            dated.push_back(entry.path());
    }
    std::sort(dated.rbegin(), dated.rend());
    candidates.insert(candidates.end(), dated.begin(), dated.end());
    for (const auto& c : candidates) {
        struct stat sb {
        };
        if (::stat(c.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        // Renamed: the same inode. Compressed after the rename: the same first bytes.
        if ((static_cast<std::uint64_t>(sb.st_ino) == was.ino && static_cast<std::uint64_t>(sb.st_dev) == was.dev)
            || (!was.head.empty() && headDigest(c.string(), was.headBytes) == was.head))
            return c.string();
    }
    return {};
}

void readLog(Workspace& ws, const Classifier& classifier, WatchSource& s, const SourceUri& u, const WatchOptions& o,
             SourceRead& r)
{
    LogState state = LogState::load(s.state);
    struct stat sb {
    };
    const bool present = ::stat(u.path.c_str(), &sb) == 0;
    if (!present && !state.started)
        throw std::runtime_error(u.path + ": no such file");
    auto importRange = [&](const std::string& file, std::int64_t from, std::int64_t line, std::int64_t to) {
        ImportOptions io;
        io.format = state.format;
        io.fromOffset = from;
        io.fromLine = line;
        io.toOffset = to;
        io.contextBytes = o.logContextBytes;
        auto result = importPath(ws, file, classifier, o.observer, nullptr, io);
        const bool ok = result.error.empty() && !result.cancelled;
        addImport(r, std::move(result));
        return ok;
    };
    if (!state.started) {
        if (sb.st_size == 0)
            return; // nothing to know the format by yet
        state.format = detectFormat(u.path);
        if (state.format != format::postfix && state.format != format::exim)
            throw std::runtime_error(u.path + ": not a Postfix or Exim log"
                                     + (state.format.empty() ? std::string() : " (it reads as " + state.format + ")")
                                     + ": a log source follows a mail server's log");
        state.started = true;
        state.id = identify(u.path, sb, sb.st_size);
    }
    // Rotated (renamed and a new file made, or copied and truncated): the old file's lines after
    // where reading stopped come first.
    const bool sameInode = present && static_cast<std::uint64_t>(sb.st_ino) == state.id.ino
        && static_cast<std::uint64_t>(sb.st_dev) == state.id.dev;
    const bool sameHead = present && headDigest(u.path, state.id.headBytes) == state.id.head;
    const bool renamed = !present || !sameInode;
    const bool truncated = !renamed && (sb.st_size < state.offset || (!sameHead && sb.st_size >= state.id.headBytes));
    if (renamed || truncated) {
        const std::string old = rotatedFile(u.path, state.id);
        if (old.empty()) {
            if (state.offset > 0)
                r.note = u.path + " was " + (truncated ? "truncated" : "replaced")
                    + " and its rotated copy was not found beside it (" + u.path + ".1, .1.gz or " + u.path
                    + "-DATE): lines written after the last look and before the rotation may be missing";
        } else {
            const auto [end, lines] = completeLines(old, state.offset, true);
            if (end > state.offset && !importRange(old, state.offset, state.line, end))
                return; // read again from the same place next time
            r.items += lines;
            r.note = u.path + " was rotated (" + (truncated ? "copied and truncated" : "renamed") + " to "
                + fs::path(old).filename().string() + ")"
                + (lines ? ": its last " + std::to_string(lines) + (lines == 1 ? " line was" : " lines were")
                           + " read there"
                         : std::string());
        }
        if (!present) {
            // Renamed and not made again yet: nothing new until it is.
            state.offset = 0;
            state.line = 1;
            state.id = {};
            s.state = state.dump();
            return;
        }
        state.offset = 0;
        state.line = 1;
        state.id = identify(u.path, sb, sb.st_size);
    } else if (state.id.headBytes < 256 && sb.st_size > state.id.headBytes && state.offset == 0) {
        state.id = identify(u.path, sb, sb.st_size); // the first line was still being written
    }
    const auto [end, lines] = completeLines(u.path, state.offset, false);
    if (end > state.offset) {
        if (!importRange(u.path, state.offset, state.line, end)) {
            s.state = state.dump(); // the rotation's part is read: keep that
            return;
        }
        state.offset = end;
        state.line += lines;
        r.items += lines;
        if (state.id.headBytes == 0)
            state.id = identify(u.path, sb, sb.st_size);
    }
    s.state = state.dump();
}

} // namespace

std::vector<std::string> changePaths(const std::vector<WatchSource>& sources)
{
    std::vector<std::string> out;
    for (const auto& s : sources) {
        if (s.paused)
            continue;
        SourceUri u;
        try {
            u = SourceUri::parse(s.uri);
        } catch (const std::invalid_argument&) {
            continue;
        }
        std::error_code ec;
        if (u.kind == "maildir") {
            out.push_back((fs::path(u.path) / "new").string());
            out.push_back((fs::path(u.path) / "cur").string());
        } else if (u.kind == "folder") {
            out.push_back(u.path);
            for (auto it = fs::recursive_directory_iterator(u.path, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
                if (it->is_directory(ec))
                    out.push_back(it->path().string());
        } else if (u.kind == "log") {
            // The file for its new lines; its folder for a rotation (a new file, a rename).
            out.push_back(u.path);
            out.push_back(fs::path(u.path).parent_path().string());
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

ChangeWaiter::ChangeWaiter(const std::vector<std::string>& paths)
{
    m_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_fd < 0)
        return;
    for (const auto& p : paths) {
        // A file: its writes. A folder: files coming and going, not the writes to every file in
        // it (a log's folder holds other logs, written all the time).
        std::error_code ec;
        const std::uint32_t mask = fs::is_directory(p, ec)
            ? IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE
            : IN_MODIFY | IN_CLOSE_WRITE;
        if (::inotify_add_watch(m_fd, p.c_str(), mask) >= 0)
            ++m_watched;
    }
}

ChangeWaiter::~ChangeWaiter()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

bool ChangeWaiter::wait(int ms, int settleMs)
{
    if (m_fd < 0 || m_watched == 0)
        return false;
    auto drain = [this] {
        char buf[4096];
        while (::read(m_fd, buf, sizeof buf) > 0) { }
    };
    pollfd p {m_fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0)
        return false;
    drain();
    // A burst (a batch of messages delivered, a log written line by line): read it in one look,
    // but a log written without pause is read at least every two seconds.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    while (std::chrono::steady_clock::now() < until && ::poll(&p, 1, settleMs) > 0)
        drain();
    return true;
}

SourceRead readSource(Workspace& ws, const Classifier& classifier, const WatchSource& source,
                      const WatchOptions& options)
{
    SourceRead r;
    r.sourceId = source.id;
    r.uri = source.uri;
    WatchSource s = source;
    try {
        const SourceUri u = SourceUri::parse(source.uri);
        if (u.kind == "maildir" || u.kind == "folder")
            readFolder(ws, classifier, s, u, options, r);
        else if (u.kind == "log")
            readLog(ws, classifier, s, u, options, r);
        else
            detail::readImap(ws, classifier, s, u, options, r);
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    // Where reading stopped and how it went, for the next look and for the window.
    const std::string at = nowUtc();
    auto st = ws.db().prepare(
        "UPDATE watch_sources SET state = ?, last_checked = ?, last_read = CASE WHEN ? > 0 THEN ? ELSE last_read END, "
        "last_error = ?, failures = CASE WHEN ? THEN failures + 1 ELSE 0 END, items = items + ?, events = events + ? "
        "WHERE id = ?");
    st.bind(1, s.state)
        .bind(2, at)
        .bind(3, r.items)
        .bind(4, at)
        .bindText(5, r.error)
        .bind(6, r.error.empty() ? 0 : 1)
        .bind(7, r.items)
        .bind(8, r.counts.imported)
        .bind(9, source.id);
    st.run();
    return r;
}

std::vector<SourceRead> readSources(Workspace& ws, const Classifier& classifier, const WatchOptions& options)
{
    std::vector<SourceRead> out;
    for (const auto& s : watchSources(ws))
        if (!s.paused)
            out.push_back(readSource(ws, classifier, s, options));
    return out;
}

} // namespace bt

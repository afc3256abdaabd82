// SPDX-License-Identifier: MIT
#pragma once

#include "workspace.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

class Classifier;

/// How progress and cancel cross from the core to a UI or a terminal: the core calls it, never
/// blocks on it. Default: no progress, never cancelled.
class ImportObserver
{
public:
    virtual ~ImportObserver() = default;
    /// Bytes of the current input done so far, of `total`.
    virtual void progress(std::uint64_t done, std::uint64_t total) { (void)done, (void)total; }
    /// Checked between batches; true stops the import (what was committed stays, marked cancelled).
    /// Also checked while waiting for another import into the workspace to end.
    virtual bool cancelled() { return false; }
    /// Another import into the same workspace is running (`holder` says which): this one waits
    /// for it to end, asking cancelled() meanwhile. Called once, before waiting.
    virtual void waiting(const std::string& holder) { (void)holder; }
};

/// What a caller may say about an input beyond its content.
struct ImportOptions {
    /// The year of the first dated line of a log whose lines carry no year (syslog's
    /// "Jan 31 23:59:59", Postfix); later lines run forward from it, into the next year after a
    /// 31 Dec → 1 Jan. Unset: inferred so that the lines run forward in time and the last one
    /// falls at or before the file's modification time.
    std::optional<int> year;
    /// Postfix's configuration folder (/etc/postfix): its `smtp_bind_address` (main.cf, or per
    /// SMTP client service in master.cf with its `syslog_name`) is the sending IP of the log's
    /// delivery lines, which Postfix does not log. Empty: sending IP unknown.
    std::string postfixConfig;
    /// The format, when the caller knows it (a watched log or folder): content detection is not
    /// asked, since a few new lines may hold nothing it recognises. A format's name (format::…).
    std::string format;
    /// Following a growing log (bt::Watcher): only the lines from byte `fromOffset` of the
    /// content (a line's start; decompressed bytes of a gzip'd file), which is line `fromLine`,
    /// up to byte `toOffset` (a line's end; -1: the end of the file) are read, counted and
    /// stored. Lines up to `contextBytes` before `fromOffset` are read first for their context
    /// only (Postfix's sender lines, the syslog year), neither counted nor stored.
    std::int64_t fromOffset = 0, fromLine = 1, toOffset = -1, contextBytes = 0;
    /// A folder's e-mail files to read instead of all of them (a watched folder's new files).
    std::optional<std::vector<std::string>> files;
};

/// A saved column mapping for a CSV no importer knows: which column holds what. Loaded from a
/// JSON profile file ({"name": …, "delimiter": ",", "columns": {"recipient": "Email", …}}).
struct CsvProfile {
    std::string name;
    char delimiter = 0; ///< 0 = detect
    /// Event field → column header. Fields: recipient, reply, timestamp, status, basic_code,
    /// event_type, sending_ip, campaign, from, envelope_sender, message_id, remote_mta.
    std::map<std::string, std::string> columns;

    static CsvProfile load(const std::string& path); ///< throws std::runtime_error naming the file and field
};

/// The fields a column profile maps (CsvProfile::columns' keys), in the order a guess fills them.
std::vector<std::string> profileFields();
/// A first mapping for a CSV with this header row, as the column-mapping dialog proposes it:
/// field → the header (as written) that most likely holds it, by the words headers use
/// ("Email", "Diagnostic-Code", "Sending IP", "Reply-To" is no reply). Each header goes to one
/// field at most; fields without a likely column are left out.
std::map<std::string, std::string> guessProfileColumns(const std::vector<std::string>& header);

/// What the importer does with one record of a CSV read through `profile`.
struct ProfileRecordCheck {
    bool skipped = false; ///< not a delivery outcome (an open, a click…): not counted, not stored
    std::string problem; ///< why it would be rejected ("no timestamp (field \"Sent\" …)"), empty when imported
};
/// The importer's own rules for one record (column header → value), so the mapping dialog's
/// preview shows what an import will reject before it runs: an unknown event word, no or no
/// usable recipient, no or an unreadable timestamp.
ProfileRecordCheck checkProfileRecord(const CsvProfile& profile, const std::map<std::string, std::string>& byColumn);

struct ImportResult {
    std::string file;
    std::string format;
    ImportCounts counts;
    std::int64_t importId = 0;
    /// Records recognised and deliberately left out, not counted in `counts`: engagement events
    /// (opens, clicks, unsubscribes), acceptance notices ("processed", "injection") and message
    /// trace steps that are not an outcome. Not stored in the workspace.
    std::int64_t skipped = 0;
    bool cancelled = false;
    std::string error; ///< set when the input could not be imported at all
    bool empty = false; ///< the input is an empty file (`error` says so): nothing to do, not bad input
    /// Something the user should know about how the input was read, such as the year given to
    /// syslog lines that carry none (empty when nothing to say).
    std::string note;
};

/// The formats' names (ImportResult::format, the workspace's imports.format), each written once.
namespace format
{
inline constexpr std::string_view email = "email", sendgridCsv = "sendgrid_csv", sendgridEvents = "sendgrid_events",
                                  mailgun = "mailgun_json", postmarkJson = "postmark_json",
                                  postmarkCsv = "postmark_csv", sparkpostJson = "sparkpost_json",
                                  sparkpostCsv = "sparkpost_csv", mandrill = "mandrill_json", brevo = "brevo_json",
                                  ses = "ses_json", m365 = "m365_csv", postfix = "postfix_log", exim = "exim_log",
                                  dmarc = "dmarc_aggregate", csv = "csv";
}

/// The format a file's content points to (never its file name): each format of the importer
/// registry (core/importers/internal.h) says how sure it is, the surest wins; "email" for a
/// folder, "csv" for a CSV that needs a profile, "" when nothing fits. See core/IMPORTERS.md.
std::string detectFormat(const std::string& path);

/// The inputs importing `path` means, each imported on its own (importPath) with its own format
/// and counts: a file is itself; a folder is the folder itself for its e-mails (eml, mbox,
/// maildir; files nothing recognises stay with them and are rejected with the reason), then each
/// file whose content is an export or a log, in name order. A folder of e-mails only is itself.
std::vector<std::string> importInputs(const std::string& path);

/// Imports one path (a file, or a folder's e-mails: its exports and logs are left to importInputs) into the workspace:
/// one import record, batches committed in transactions, every record counted as imported, rejected (kept with its
/// position and reason) or duplicate (same dedup key as an event already stored). A gzip'd log or export is read
/// decompressed. Imports into one workspace run one at a time: this one waits while another (in any process) runs,
/// until the observer cancels. A failure to store (a full disk: `error` starts "disk full") stops the import, recorded
/// `failed` with the counts of what was committed, which are also `counts`.
ImportResult importPath(Workspace& ws, const std::string& path, const Classifier& classifier,
                        ImportObserver* observer = nullptr, const CsvProfile* profile = nullptr,
                        const ImportOptions& options = {});

} // namespace bt

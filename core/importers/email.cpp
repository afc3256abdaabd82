// SPDX-License-Identifier: MIT
// Bounce emails: one file, an mbox, a maildir or a folder of them, read by the BounceReader
// (every recipient of every bounce a record) and handed to the shared Sink.
#include "../email.h"

#include "../bounce.h"
#include "../classifier.h"
#include "../mailsource.h"
#include "../replyparser.h"
#include "../text.h"
#include "../textsafety.h"
#include "input.h"
#include "internal.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace bt::detail
{
namespace
{

std::string eventTypeOfKind(const std::string& kind)
{
    if (kind == "delayed")
        return "deferral";
    if (kind == "feedback")
        return "complaint";
    return kind; // bounce, delivered, auto_reply
}

void importEmailFile(const std::string& path, Sink& sink, const BounceReader& reader, std::uint64_t& done,
                     std::uint64_t total);

} // namespace

/// The files of a folder, recursively, in name order.
std::vector<std::string> folderFiles(const std::string& path)
{
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             path, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec))
            files.push_back(it->path().string());
    std::sort(files.begin(), files.end());
    return files;
}

/// A file of a folder that is an input of its own: an export or a log recognised from its
/// content. E-mails stay with the folder (a maildir is one import), and so does anything not
/// recognised, or a CSV no importer knows (a message whose first header is "Content-Type: a; b"
/// reads as one), which the e-mail reader then rejects with its reason, as before.
bool ownInput(const std::string& file)
{
    const std::string f = detectFormat(file);
    return !f.empty() && f != format::email && f != format::csv;
}

std::vector<std::string> folderEmailFiles(const std::string& path)
{
    auto files = folderFiles(path);
    std::erase_if(files, ownInput);
    return files;
}

namespace
{

void importEmails(const std::string& path, Sink& sink, const Classifier& classifier,
                  const std::vector<std::string>* files)
{
    const BounceReader reader(std::shared_ptr<const Classifier>(&classifier, [](const Classifier*) {}));
    std::uint64_t done = 0, total = 0;
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(path, ec);
    if (files)
        for (const auto& f : *files)
            total += std::filesystem::file_size(f, ec);
    else if (!folder)
        total = std::filesystem::file_size(path, ec);
    // A folder's exports and logs are imported on their own (importInputs): its e-mails here.
    for (const auto& file : files ? *files : folder ? folderEmailFiles(path) : std::vector<std::string> {path}) {
        if (sink.cancelled())
            return;
        importEmailFile(file, sink, reader, done, total);
    }
}

void importEmailFile(const std::string& path, Sink& sink, const BounceReader& reader, std::uint64_t& done,
                     std::uint64_t total)
{
    forEachMessage(
        path,
        [&](SourceMessage&& m) {
            done += m.bytes.size();
            sink.setProgress(done, total);
            const auto outcome = reader.read(m.bytes);
            const std::string messageKey = sha1(m.bytes);
            if (outcome.records.empty()) {
                // No bounce: a DMARC aggregate report's e-mail (a mailbox that is both the bounce
                // and the rua address) gives its report's rows instead.
                if (importReportMessage(sink, m))
                    return !sink.cancelled();
                std::string why = outcome.error;
                for (const auto& w : outcome.warnings)
                    why += "; a reader failed on it: " + w;
                sink.reject({m.path, 0, static_cast<std::int64_t>(m.offset), why, m.bytes});
                return !sink.cancelled();
            }
            std::size_t n = 0;
            for (const auto& r : outcome.records) {
                Event e;
                e.eventType = eventTypeOfKind(r.kind);
                e.source = r.format;
                e.timestamp = r.timestamp;
                e.recipient = r.recipient;
                e.originalRecipient = r.originalRecipient;
                e.envelopeSender = r.envelopeSender;
                e.fromDomain = r.original.fromDomain;
                e.campaign = r.original.campaign;
                e.messageId = r.original.messageId;
                e.remoteMta = r.remoteMta;
                e.replyText = r.replyText;
                e.basicCode = r.basicCode;
                e.enhancedCode = r.enhancedCode;
                e.diagnosis = r.diagnosis;
                e.reasonHint = r.reasonHint;
                e.filteringGateway = r.filteringGateway;
                e.provider = r.diagnosis.provider;
                e.sourceFile = m.path;
                e.sourceOffset = static_cast<std::int64_t>(m.offset);
                // The message is stored once with its first recipient; the others point to it.
                if (n == 0)
                    e.raw = m.bytes;
                // The same message imported again (or from a second copy) is the same event.
                e.dedupKey = sha1(messageKey + '\x1f' + std::to_string(n) + '\x1f' + r.recipient);
                ++n;
                sink.event(std::move(e));
            }
            return !sink.cancelled();
        },
        [&](const std::string& file, const std::string& error) {
            sink.reject({file, 0, -1, error, {}});
        });
}

} // namespace

/// A message's first header; a log line never starts so, and a message may quote log lines.
int emailHead(const Head& h)
{
    if (h.isJson)
        return 0;
    const std::string& t = h.text;
    if (t.starts_with("From ") || text::startsWithNoCase(t, "Return-Path:") || text::startsWithNoCase(t, "Received:")
        || text::startsWithNoCase(t, "Delivered-To:") || text::startsWithNoCase(t, "X-"))
        return 100;
    // Headers without a usual first field (Subject:, From: first): less sure.
    if (text::startsWithNoCase(t, "From:") || text::startsWithNoCase(t, "Subject:")
        || text::startsWithNoCase(t, "Date:") || text::startsWithNoCase(t, "Message-ID:"))
        return 20;
    return 0;
}

void runEmails(const std::string& path, Sink& sink, const RunContext& c)
{
    importEmails(path, sink, c.classifier, c.files);
}

} // namespace bt::detail

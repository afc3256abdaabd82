// SPDX-License-Identifier: MIT
#include "watchimap.h"

#include "imap.h"
#include "sqlite.h"
#include "workspace.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace bt::detail
{

namespace
{

using nlohmann::json;
namespace fs = std::filesystem;

/// Messages fetched and imported together: what a look holds on disk at most, and how far a
/// failure sends the next look back.
constexpr std::size_t kBatch = 200;

/// A folder of its own for one batch's messages, removed with everything in it.
struct BatchDir {
    fs::path path;
    BatchDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "bt-imap-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot make a temporary folder for the fetched messages");
        path = tmpl;
    }
    ~BatchDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    BatchDir(const BatchDir&) = delete;
    BatchDir& operator=(const BatchDir&) = delete;
};

} // namespace

void readImap(Workspace& ws, const Classifier& classifier, WatchSource& source, const SourceUri& uri,
              const WatchOptions& options, SourceRead& read)
{
    const json opts = json::parse(source.options.empty() ? "{}" : source.options, nullptr, false);
    ImapAccount account;
    account.host = uri.host;
    account.port = uri.port;
    account.user = uri.user;
    account.mailbox = uri.mailbox;
    account.tls = uri.implicitTls ? ImapAccount::Tls::Implicit : ImapAccount::Tls::StartTls;
    std::string moveTo;
    if (opts.is_object()) {
        // "tls": "none" is for a server on this machine only (ImapClient refuses it elsewhere);
        // "verify_peer": false for a self-signed certificate the user chose to trust.
        if (opts.value("tls", std::string()) == "none")
            account.tls = ImapAccount::Tls::None;
        if (opts.contains("verify_peer") && opts["verify_peer"].is_boolean())
            account.verifyPeer = opts["verify_peer"].get<bool>();
        if (opts.contains("timeout") && opts["timeout"].is_number_integer())
            account.timeoutSeconds = std::max(1, opts["timeout"].get<int>());
        moveTo = opts.value("move_to", std::string());
    }
    account.password = options.password ? options.password(source) : std::string();
    if (account.password.empty())
        throw std::runtime_error(uri.text()
                                 + ": no password: give it in BOUNCETRIAGE_IMAP_PASSWORD (bouncetriage-cli watch), "
                                   "or when the window asks");

    json state = json::parse(source.state.empty() ? "{}" : source.state, nullptr, false);
    if (!state.is_object())
        state = json::object();
    std::uint32_t validity = state.value("uidvalidity", std::uint32_t(0));
    std::uint32_t nextUid = state.value("next_uid", std::uint32_t(1));

    ImapClient client(account);
    const MailboxStatus status = client.examine();
    if (validity != status.uidValidity) {
        if (validity != 0)
            read.note = uri.text() + ": the mailbox's UIDVALIDITY changed (" + std::to_string(validity) + " to "
                + std::to_string(status.uidValidity)
                + "): its UIDs were renumbered, so it is read again; messages imported before count as duplicates";
        validity = status.uidValidity;
        nextUid = 1;
    }
    auto save = [&] {
        state["uidvalidity"] = validity;
        state["next_uid"] = nextUid;
        source.state = state.dump();
    };
    save();
    const std::vector<std::uint32_t> uids = client.uidsFrom(nextUid);
    for (std::size_t at = 0; at < uids.size(); at += kBatch) {
        const std::size_t end = std::min(uids.size(), at + kBatch);
        BatchDir dir;
        std::vector<std::string> files;
        std::vector<std::uint32_t> fetched;
        for (std::size_t i = at; i < end; ++i) {
            std::string bytes;
            try {
                bytes = client.fetch(uids[i]);
            } catch (const ImapError& e) {
                if (e.kind() == ImapError::Kind::NoSuchMessage)
                    continue; // moved or expunged by another client meanwhile
                throw;
            }
            const fs::path file = dir.path / (std::to_string(uids[i]) + ".eml");
            std::ofstream(file, std::ios::binary) << bytes;
            files.push_back(file.string());
            fetched.push_back(uids[i]);
        }
        if (!files.empty()) {
            ImportOptions io;
            io.format = std::string(format::email);
            io.files = files;
            ImportResult result = importPath(ws, dir.path.string(), classifier, options.observer, nullptr, io);
            const bool ok = result.error.empty() && !result.cancelled;
            // The import, its events and rejects name the mailbox and UID, not the batch's folder.
            if (result.importId > 0) {
                sql::Transaction tx(ws.db());
                auto imp = ws.db().prepare("UPDATE imports SET file = ? WHERE id = ?");
                imp.bind(1, uri.text()).bind(2, result.importId);
                imp.run();
                for (const char* table : {"events", "rejects"}) {
                    auto st = ws.db().prepare(std::string("UPDATE ") + table
                                              + " SET source_file = ? WHERE import_id = ? AND source_file = ?");
                    for (std::size_t i = 0; i < files.size(); ++i) {
                        st.bind(1, uri.text() + ";UID=" + std::to_string(fetched[i]))
                            .bind(2, result.importId)
                            .bind(3, files[i]);
                        st.run();
                    }
                }
                tx.commit();
                result.file = uri.text();
            }
            addImport(read, std::move(result));
            if (!ok) {
                if (read.error.empty())
                    read.error = uri.text() + ": the import was cancelled";
                return; // this batch is read again next time
            }
        }
        read.items += static_cast<std::int64_t>(end - at);
        nextUid = uids[end - 1] + 1;
        save();
        // Processed messages out of the way, once they are safely in the workspace.
        if (!moveTo.empty())
            for (const auto uid : fetched)
                try {
                    client.move(uid, moveTo);
                } catch (const ImapError& e) {
                    read.note
                        += (read.note.empty() ? "" : "; ") + std::string("not moved to ") + moveTo + ": " + e.what();
                    break;
                }
    }
}

} // namespace bt::detail

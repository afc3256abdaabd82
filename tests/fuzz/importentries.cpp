// SPDX-License-Identifier: MIT
// The importers' entries: the input is written to a file and imported with bt::importPath into a
// real workspace, exactly as the CLI and the window import it (format detection included).
#include "classifier.h"
#include "entries.h"
#include "importer.h"
#include "sqlite.h"
#include "support.h"
#include "workspace.h"

#include <filesystem>
#include <memory>
#include <string>

namespace bt::fuzz
{

namespace
{

/// The workspace the imports go to: made again every so many inputs, so that it stays small
/// (each input's events stay in it until then) and an input's import costs the same all along.
Workspace& workspace()
{
    static std::unique_ptr<Workspace> ws;
    static int uses = 0;
    if (!ws || ++uses > 200) {
        ws.reset();
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
            std::filesystem::remove(scratchDir() / (std::string("fuzz.btw") + suffix), ec);
        ws = std::make_unique<Workspace>((scratchDir() / "fuzz.btw").string());
        uses = 0;
    }
    return *ws;
}

/// A byte no stored address may hold: it would go on into the suppression list and the exports.
bool badAddressByte(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void import(std::string_view input, std::string_view fileName, const CsvProfile* profile)
{
    const auto path = scratchFile(fileName, input);
    auto& ws = workspace();
    ImportOptions options;
    options.year = 2024; // a syslog file's year, else taken from the file's time: the same input, the same run
    const auto r = importPath(ws, path, shippedClassifier(), nullptr, profile, options);
    if (!r.error.empty()) {
        if (r.error.find(path) == std::string::npos)
            fail("an import error that does not name the file: " + r.error);
        // A library's own exception stopped the import: one bad record cost the whole file, and
        // the message names neither the line nor the field.
        if (r.error.find("json.exception") != std::string::npos)
            fail("a JSON library error stopped the import: " + r.error);
        return;
    }
    const auto& c = r.counts;
    if (c.read != c.imported + c.rejected + c.duplicate)
        fail("read " + std::to_string(c.read) + " records but imported " + std::to_string(c.imported) + ", rejected "
             + std::to_string(c.rejected) + ", duplicate " + std::to_string(c.duplicate));
    auto q = ws.db().prepare("SELECT recipient FROM events WHERE import_id = ?");
    q.bind(1, r.importId);
    while (q.step())
        for (const unsigned char ch : q.textView(0))
            if (badAddressByte(ch))
                fail("a stored recipient holds the byte " + std::to_string(ch));
}

} // namespace

void csvImport(std::string_view input)
{
    import(input, "input.csv", nullptr);
}

void profileImport(std::string_view input)
{
    // The profile of tests/data/profile-events.json with every field mapped, so that each of
    // the generic importer's fields is read from some column.
    static const CsvProfile profile = [] {
        CsvProfile p;
        p.name = "fuzz";
        p.columns = {{"recipient", "Who"},          {"timestamp", "When"},        {"event_type", "What happened"},
                     {"reply", "Server said"},      {"status", "Status"},         {"basic_code", "Code"},
                     {"sending_ip", "IP"},          {"campaign", "Campaign"},     {"from", "From"},
                     {"envelope_sender", "Sender"}, {"message_id", "Message-ID"}, {"remote_mta", "MX"}};
        return p;
    }();
    import(input, "input.csv", &profile);
}

void jsonImport(std::string_view input)
{
    import(input, "input.json", nullptr);
}

void logImport(std::string_view input)
{
    import(input, "input.log", nullptr);
}

} // namespace bt::fuzz

// SPDX-License-Identifier: MIT
// bouncetriage-cli: the command-line entry point. All logic lives in core/; this file only
// parses arguments, reads input and prints.
#include "classifier.h"
#include "json.h"
#include "knowledge.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace
{

int fail(const std::string& message)
{
    std::cerr << "bouncetriage-cli: " << message << "\n";
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app {"Bounce Triage: tells why an email bounced", "bouncetriage-cli"};
    app.require_subcommand(1);
    std::vector<std::string> ruleFiles;
    app.add_option("--rules", ruleFiles, "Extra rules file(s) overriding the shipped rules by id")
        ->check(CLI::ExistingFile);

    auto* diagnose = app.add_subcommand("diagnose", "Diagnose one bounce: a reply line, an NDR text or a bounce email");
    bool json = false;
    bool lines = false;
    std::string input = "-";
    diagnose->add_flag("--json", json, "Print JSON (JSON Lines with --lines)");
    diagnose->add_flag("--lines", lines, "Treat every input line as a separate reply, one result per line");
    diagnose->add_option("input", input, "File to read, or - for standard input")->capture_default_str();

    CLI11_PARSE(app, argc, argv);

    std::shared_ptr<bt::KnowledgeBase> kb;
    try {
        std::vector<std::filesystem::path> extra(ruleFiles.begin(), ruleFiles.end());
        kb = bt::KnowledgeBase::loadWithOverrides(extra);
    } catch (const bt::KnowledgeError& e) {
        return fail(e.what());
    }
    std::unique_ptr<bt::Classifier> classifier;
    try {
        classifier = std::make_unique<bt::Classifier>(kb);
    } catch (const bt::KnowledgeError& e) {
        return fail(e.what());
    }

    std::ifstream file;
    std::istream* in = &std::cin;
    if (input != "-") {
        std::error_code ec;
        if (std::filesystem::is_directory(input, ec))
            return fail(input + ": is a folder, not a file");
        file.open(input, std::ios::binary);
        if (!file)
            return fail(input + ": cannot be read");
        in = &file;
    }

    auto print = [&](const bt::Diagnosis& d) {
        if (json)
            std::cout << bt::toJson(d) << '\n';
        else
            std::cout << bt::toCard(d) << '\n';
    };

    if (lines) {
        // Streams: a million-line log never sits in memory. Blank lines still get a result
        // so output line N answers input line N.
        std::string line;
        while (std::getline(*in, line)) {
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            print(classifier->diagnoseText(line));
        }
        if (in->bad())
            return fail(input + ": read error");
        return 0;
    }
    std::ostringstream ss;
    ss << in->rdbuf();
    if (in->bad())
        return fail(input + ": read error");
    const std::string text = ss.str();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        return fail((input == "-" ? std::string("standard input") : input) + ": is empty, nothing to diagnose");
    print(classifier->diagnoseText(text));
    return 0;
}

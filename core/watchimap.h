// SPDX-License-Identifier: MIT
// Reading an IMAP source (watch.cpp's dispatch): internal to the core.
#pragma once

#include "watch.h"

namespace bt
{
class Workspace;
class Classifier;

namespace detail
{

/// Adds one import's counts to the look's and keeps its result; its error becomes the look's
/// when the look has none yet.
void addImport(SourceRead& read, ImportResult&& result);

/// Reads the messages of the source's mailbox it has not read (by UIDVALIDITY and UID, kept in
/// `source.state`), imports them, and moves them when the source's options say so.
void readImap(Workspace& ws, const Classifier& classifier, WatchSource& source, const SourceUri& uri,
              const WatchOptions& options, SourceRead& read);

} // namespace detail
} // namespace bt

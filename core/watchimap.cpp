// SPDX-License-Identifier: MIT
#include "watchimap.h"

#include <stdexcept>

namespace bt::detail
{

void readImap(Workspace&, const Classifier&, WatchSource&, const SourceUri& uri, const WatchOptions&, SourceRead&)
{
    throw std::runtime_error(uri.text() + ": IMAP sources are not read by this build yet");
}

} // namespace bt::detail

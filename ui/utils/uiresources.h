// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

namespace btui
{

/// Registers ui.qrc. A resource compiled into a static library is dropped by the linker
/// unless something references its initialiser, so the app and the tests call this once.
void initResources();

/// The bundled sample bounce (a Gmail authentication rejection from the Sisimai corpus).
QString sampleBouncePath();

/// The application icon.
QString appIconPath();

/// The project version from CMake ("0.1.0").
QString projectVersion();

} // namespace btui

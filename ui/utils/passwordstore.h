// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QString>

#include <functional>

/// IMAP passwords in the desktop's keyring (the Secret Service through QtKeychain: GNOME
/// Keyring, KWallet), never in the workspace. Where no keyring answers, the caller asks once per
/// session instead. Asynchronous: the keyring may ask the user to unlock it.
class PasswordStore : public QObject
{
    Q_OBJECT
public:
    explicit PasswordStore(QObject* parent = nullptr);

    /// The password kept for `sourceUri`: `done(password, error)`; an empty password with an
    /// error when none is kept or no keyring answers.
    void read(const QString& sourceUri, std::function<void(const QString&, const QString&)> done);
    /// Keeps it; `done(error)` ("" when kept).
    void write(const QString& sourceUri, const QString& password, std::function<void(const QString&)> done = {});
    void remove(const QString& sourceUri);
};

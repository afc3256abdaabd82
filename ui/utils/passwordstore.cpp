// SPDX-License-Identifier: MIT
#include "utils/passwordstore.h"

#include <qt6keychain/keychain.h>

using namespace Qt::StringLiterals;

namespace
{
const QString kService = u"Bounce Triage IMAP"_s;
}

PasswordStore::PasswordStore(QObject* parent)
    : QObject(parent)
{
}

void PasswordStore::read(const QString& sourceUri, std::function<void(const QString&, const QString&)> done)
{
    auto* job = new QKeychain::ReadPasswordJob(kService, this);
    job->setAutoDelete(true);
    // Never a plain-text file instead of the keyring: asking again is the fallback.
    job->setInsecureFallback(false);
    job->setKey(sourceUri);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job* j) {
        auto* r = static_cast<QKeychain::ReadPasswordJob*>(j);
        if (r->error() == QKeychain::NoError)
            done(r->textData(), QString());
        else
            done(QString(), r->errorString());
    });
    job->start();
}

void PasswordStore::write(const QString& sourceUri, const QString& password, std::function<void(const QString&)> done)
{
    auto* job = new QKeychain::WritePasswordJob(kService, this);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(sourceUri);
    job->setTextData(password);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job* j) {
        if (done)
            done(j->error() == QKeychain::NoError ? QString() : j->errorString());
    });
    job->start();
}

void PasswordStore::remove(const QString& sourceUri)
{
    auto* job = new QKeychain::DeletePasswordJob(kService, this);
    job->setAutoDelete(true);
    job->setKey(sourceUri);
    job->start();
}

// SPDX-License-Identifier: MIT
#include "eventtablemodel.h"

#include "models/workspacesession.h"
#include "replytemplate.h"
#include "utils/familycolors.h"
#include "utils/fieldwords.h"
#include "utils/plaintext.h"

#include <QDateTime>
#include <QLocale>

#include <cstdlib>
#include <span>

using namespace Qt::StringLiterals;

namespace
{

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

/// The reply on one line and short: the details pane shows it whole.
QString elided(const std::string& reply)
{
    QString s = qs(reply.size() > 400 ? reply.substr(0, 400) : reply);
    s.replace(u'\r', u' ').replace(u'\n', u' ').replace(u'\t', u' ');
    return s.simplified();
}

struct PageResult {
    quint64 generation = 0;
    qint64 count = -1; ///< -1: not counted (a page of a snapshot already in place)
    int page = 0;
    QList<bt::EventRow> rows;
    std::shared_ptr<const std::vector<std::int64_t>> ids; ///< the whole ordered snapshot, when taken so
};

/// Page `page` of an id snapshot.
QList<bt::EventRow> rowsOfPage(bt::Workspace& ws, const std::vector<std::int64_t>& ids, int page, int pageSize)
{
    const auto first = std::min(ids.size(), static_cast<std::size_t>(page) * static_cast<std::size_t>(pageSize));
    const auto n = std::min(ids.size() - first, static_cast<std::size_t>(pageSize));
    QList<bt::EventRow> rows;
    for (auto& row : bt::eventRows(ws, std::span<const std::int64_t>(ids).subspan(first, n)))
        rows.append(std::move(row));
    return rows;
}

} // namespace

EventTableModel::EventTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

EventTableModel::~EventTableModel()
{
    // Jobs still queued see the change and return without touching SQLite.
    m_live->store(~0ull);
}

void EventTableModel::setSession(WorkspaceSession* session)
{
    m_session = session;
    reload();
}

void EventTableModel::setFilter(const bt::EventFilter& filter)
{
    m_filter = filter;
    reload();
}

void EventTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= bt::kEventColumnCount)
        return;
    m_sortColumn = static_cast<bt::EventColumn>(column);
    m_descending = order == Qt::DescendingOrder;
    reload();
}

void EventTableModel::reload()
{
    ++m_generation;
    m_live->store(m_generation);
    m_requested.clear();
    if (!m_session) {
        beginResetModel();
        m_pages.clear();
        m_ids.reset();
        m_count = 0;
        m_pendingReset = false;
        endResetModel();
        Q_EMIT countChanged(0);
        return;
    }
    m_pendingReset = true;
    const auto gen = m_generation;
    const auto live = m_live;
    const auto filter = m_filter;
    const auto sortColumn = m_sortColumn;
    const bool desc = m_descending;
    WorkspaceSession* session = m_session;
    // Count and first page in one job: the snapshot changes once, when both are known.
    m_session->run<PageResult>(
        WorkspaceSession::Lane::Table, this,
        [=](bt::Workspace& ws) {
            PageResult r;
            r.generation = gen;
            if (live->load() != gen)
                return r;
            // A full-text search: the matches found once, in order, give the count and every
            // page (from the search index and the cube's map of the events when sorted by time,
            // the same search the charts use); other filters count and page through the indexes.
            if (!filter.text.empty()) {
                r.ids = std::make_shared<const std::vector<std::int64_t>>(
                    session->triage().eventIds(ws, filter, sortColumn, desc));
                r.count = static_cast<qint64>(r.ids->size());
                r.rows = rowsOfPage(ws, *r.ids, 0, kPageSize);
                return r;
            }
            r.count = bt::countEvents(ws, filter);
            for (auto& row : bt::eventPage(ws, filter, sortColumn, desc, 0, kPageSize))
                r.rows.append(std::move(row));
            return r;
        },
        [this](PageResult r) {
            if (r.generation != m_generation)
                return;
            beginResetModel();
            m_pages.clear();
            m_requested.clear();
            m_pendingReset = false;
            m_count = r.count;
            m_ids = std::move(r.ids);
            if (!r.rows.isEmpty())
                m_pages.insert(0, std::move(r.rows));
            endResetModel();
            Q_EMIT countChanged(m_count);
            if (m_count > 0)
                Q_EMIT pageLoaded(0, static_cast<int>(std::min<qint64>(m_count, kPageSize)) - 1);
        });
}

void EventTableModel::requestPage(int page) const
{
    if (!m_session || m_pendingReset || m_requested.contains(page))
        return;
    m_requested.insert(page);
    const auto gen = m_generation;
    const auto live = m_live;
    const auto filter = m_filter;
    const auto sortColumn = m_sortColumn;
    const bool desc = m_descending;
    const auto ids = m_ids;
    auto* self = const_cast<EventTableModel*>(this);
    m_session->run<PageResult>(
        WorkspaceSession::Lane::Table, self,
        [=](bt::Workspace& ws) {
            PageResult r;
            r.generation = gen;
            r.page = page;
            // Scrolled past before its turn came: skip the query.
            if (live->load() != gen)
                return r;
            if (ids) {
                r.rows = rowsOfPage(ws, *ids, page, kPageSize);
                return r;
            }
            for (auto& row :
                 bt::eventPage(ws, filter, sortColumn, desc, static_cast<qint64>(page) * kPageSize, kPageSize))
                r.rows.append(std::move(row));
            return r;
        },
        [self](PageResult r) {
            if (r.generation != self->m_generation)
                return;
            self->m_requested.remove(r.page);
            if (r.rows.isEmpty())
                return;
            const int first = r.page * kPageSize;
            const int last = first + static_cast<int>(r.rows.size()) - 1;
            self->m_pages.insert(r.page, std::move(r.rows));
            // Bounded memory: forget the pages farthest from where the view is.
            while (self->m_pages.size() > kMaxPages) {
                int far = -1;
                for (auto it = self->m_pages.cbegin(); it != self->m_pages.cend(); ++it)
                    if (far < 0 || std::abs(it.key() - self->m_lastAsked) > std::abs(far - self->m_lastAsked))
                        far = it.key();
                self->m_pages.remove(far);
            }
            Q_EMIT self->dataChanged(self->index(first, 0), self->index(last, bt::kEventColumnCount - 1));
            Q_EMIT self->pageLoaded(first, last);
        });
}

const bt::EventRow* EventTableModel::rowAt(int row) const
{
    const int page = row / kPageSize;
    const auto it = m_pages.constFind(page);
    if (it == m_pages.cend()) {
        m_lastAsked = page;
        requestPage(page);
        return nullptr;
    }
    const int i = row % kPageSize;
    return i < it->size() ? &it->at(i) : nullptr;
}

qint64 EventTableModel::eventId(int row) const
{
    const auto it = m_pages.constFind(row / kPageSize);
    if (it == m_pages.cend() || row % kPageSize >= it->size())
        return 0;
    return it->at(row % kPageSize).id;
}

int EventTableModel::rowCount(const QModelIndex& parent) const
{
    // QAbstractItemView takes an int; a workspace beyond 2^31 events shows its first 2^31.
    return parent.isValid() ? 0 : static_cast<int>(std::min<qint64>(m_count, std::numeric_limits<int>::max()));
}

int EventTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : bt::kEventColumnCount;
}

QVariant EventTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const bt::EventRow* r = rowAt(index.row());
    if (!r) {
        if (role == Qt::DisplayRole && index.column() == 0)
            return tr("loading\u2026");
        return {};
    }
    const auto column = static_cast<bt::EventColumn>(index.column());
    // Deliveries carry no diagnosis: their family and reason cells stay empty.
    const bool diagnosed = r->eventType != "delivered";
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case bt::EventColumn::Time: {
            return btui::utcTimeText(qs(r->timestamp));
        }
        case bt::EventColumn::Recipient:
            return qs(r->recipient);
        case bt::EventColumn::Provider:
            return qs(r->provider);
        case bt::EventColumn::Domain: {
            // Events count under the operator whose servers answered (Yahoo for AOL); the
            // brand the recipient knows stays in sight here.
            const std::string brand = m_kb ? bt::brandFor(*m_kb, r->domain, r->remoteMta) : std::string();
            return brand.empty() || brand == r->provider ? qs(r->domain) : qs(r->domain) + u" ("_s + qs(brand) + u')';
        }
        case bt::EventColumn::Codes: {
            QString c = r->basicCode ? QString::number(*r->basicCode) : QString();
            if (!r->enhancedCode.empty())
                c += (c.isEmpty() ? QString() : u" "_s) + qs(r->enhancedCode);
            return c;
        }
        case bt::EventColumn::Family:
            return diagnosed ? qs(r->family) : QString();
        case bt::EventColumn::Reason:
            return diagnosed ? qs(r->reason) : QString();
        case bt::EventColumn::SpamRelated:
            return diagnosed ? qs(r->spamRelated) : QString();
        case bt::EventColumn::Action:
            return diagnosed ? qs(r->action) : QString();
        case bt::EventColumn::Ip:
            return qs(r->ip);
        case bt::EventColumn::Campaign:
            return qs(r->campaign);
        case bt::EventColumn::Reply:
            return elided(r->reply);
        case bt::EventColumn::Type:
            return qs(r->eventType);
        }
        return {};
    case Qt::ToolTipRole:
        if (column == bt::EventColumn::Reply && !r->reply.empty())
            return btui::plainToolTip(qs(r->reply.size() > 2000 ? r->reply.substr(0, 2000) + "\u2026" : r->reply));
        return {};
    case Qt::DecorationRole:
        if (column == bt::EventColumn::Family && diagnosed && !r->family.empty())
            return btui::familyColor(qs(r->family));
        return {};
    case EventIdRole:
        return QVariant::fromValue<qint64>(r->id);
    case FamilyRole:
        return diagnosed ? qs(r->family) : QString();
    case FullReplyRole:
        return qs(r->reply);
    default:
        return {};
    }
}

QVariant EventTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= bt::kEventColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (static_cast<bt::EventColumn>(section)) {
    case bt::EventColumn::Time:
        return tr("Time (UTC)");
    case bt::EventColumn::Recipient:
        return tr("Recipient");
    case bt::EventColumn::Provider:
        return tr("Provider");
    case bt::EventColumn::Domain:
        return tr("Domain");
    case bt::EventColumn::Codes:
        return tr("Codes");
    case bt::EventColumn::Family:
        return tr("Family");
    case bt::EventColumn::Reason:
        return tr("Reason");
    case bt::EventColumn::SpamRelated:
        return tr("Spam");
    case bt::EventColumn::Action:
        return tr("Action");
    case bt::EventColumn::Ip:
        return tr("Sending IP");
    case bt::EventColumn::Campaign:
        return tr("Campaign");
    case bt::EventColumn::Reply:
        return tr("Reply");
    case bt::EventColumn::Type:
        return tr("Type");
    }
    return {};
}

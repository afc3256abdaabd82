// SPDX-License-Identifier: MIT
#include "chartview.h"

#include "utils/plaintext.h"

#include <QAbstractAxis>
#include <QApplication>
#include <QBarCategoryAxis>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsTextItem>
#include <QImage>
#include <QLegend>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QSvgGenerator>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

ChartView::ChartView(QWidget* parent)
    : QChartView(parent)
{
    setRenderHint(QPainter::Antialiasing);
    setMouseTracking(true); // hover tooltips on axis labels (mouseMoveEvent)
    chart()->setMargins(QMargins(4, 4, 4, 4));
    chart()->setBackgroundRoundness(0);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    // Three charts share a row: a smaller title and legend leave the plots their room.
    QFont title = font();
    title.setBold(true);
    chart()->setTitleFont(title);
    QFont legend = font();
    legend.setPointSizeF(legend.pointSizeF() * 0.85);
    chart()->legend()->setFont(legend);
    applyPalette();
}

void ChartView::applyPalette()
{
    const QPalette p = palette();
    QChart* c = chart();
    c->setBackgroundBrush(p.color(QPalette::Base));
    c->setBackgroundPen(Qt::NoPen);
    c->setTitleBrush(p.color(QPalette::Text));
    c->legend()->setLabelColor(p.color(QPalette::Text));
    const auto axes = c->axes();
    for (QAbstractAxis* axis : axes) {
        axis->setLabelsColor(p.color(QPalette::Text));
        axis->setTitleBrush(p.color(QPalette::Text));
        QColor grid = p.color(QPalette::Text);
        grid.setAlphaF(0.15f);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(p.color(QPalette::Mid));
    }
}

void ChartView::setEmptyText(const QString& text)
{
    chart()->setTitle(text);
}

void ChartView::mouseMoveEvent(QMouseEvent* event)
{
    QChartView::mouseMoveEvent(event);
    const auto under = items(event->position().toPoint());
    for (const QGraphicsItem* item : under) {
        const auto* text = dynamic_cast<const QGraphicsTextItem*>(item);
        if (!text)
            continue;
        const QString tip = labelTip(text->toPlainText());
        if (tip.isEmpty())
            continue;
        QToolTip::showText(event->globalPosition().toPoint(), btui::plainToolTip(tip), this);
        m_labelTipShown = true;
        return;
    }
    // Leaving a label hides its tip; a bar's own tip (shown by its series) is left alone.
    if (m_labelTipShown) {
        QToolTip::hideText();
        m_labelTipShown = false;
    }
}

void ChartView::clearChart()
{
    m_labelTips.clear();
    QChart* c = chart();
    c->removeAllSeries(); // deletes them
    const auto axes = c->axes();
    for (QAbstractAxis* a : axes) {
        c->removeAxis(a);
        delete a;
    }
}

QFont ChartView::smallLabelFont() const
{
    QFont small = QBarCategoryAxis().labelsFont();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    return small;
}

int ChartView::categoriesThatFit(int minimum) const
{
    // What is not plot: the title, the value axis's labels below, the margins (measured on Qt
    // 6.4: the layout keeps ~24 px beside the two text lines). A category's row needs the label's
    // height and Qt Charts' padding of 2 x 5 px, plus a little air.
    const QFontMetrics title(chart()->titleFont());
    const QFontMetrics label(smallLabelFont());
    const int plot = viewport()->height() - title.height() - label.height() - 36;
    const int row = label.height() + 14;
    // The category axis spreads the labels over count + 1 rows.
    return std::max(minimum, plot / row - 1);
}

int ChartView::maxLabelWidth() const
{
    return std::max(40, viewport()->width() / 3 / 10 * 10 - 10);
}

void ChartView::resizeEvent(QResizeEvent* event)
{
    QChartView::resizeEvent(event);
    fitToSize();
}

QBarCategoryAxis* ChartView::labelAxis(const QStringList& labels, const QStringList& tips)
{
    auto* axis = new QBarCategoryAxis;
    axis->setLabelsFont(smallLabelFont());
    // Shortened here with one "…" at the end (the full text is in the bar's tooltip), so that
    // Qt Charts does not cut it further; labels must stay distinct for the axis.
    const QFontMetrics fm(smallLabelFont());
    QStringList shortened;
    for (qsizetype i = 0; i < labels.size(); ++i) {
        QString t = fm.elidedText(labels[i], Qt::ElideRight, maxLabelWidth());
        while (shortened.contains(t))
            t += QChar(0x200B);
        shortened.append(t);
        // Keyed as drawn: the label's HTML collapses runs of spaces.
        m_labelTips.insert(t.simplified(), tips.value(i, labels[i]));
    }
    // Qt Charts draws axis labels as HTML: provider names and reply templates come from data.
    axis->append(btui::escapedLabels(shortened));
    return axis;
}

void ChartView::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QChartView::changeEvent(event);
}

QImage ChartView::renderImage(const QSize& size)
{
    QImage image(size, QImage::Format_ARGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    render(&painter, QRectF(QPointF(0, 0), size), viewport()->rect());
    return image;
}

bool ChartView::exportTo(const QString& path, QString* error)
{
    if (QFileInfo(path).suffix().compare(u"svg"_s, Qt::CaseInsensitive) == 0) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(viewport()->size());
        svg.setViewBox(viewport()->rect());
        svg.setTitle(chart()->title());
        QPainter painter;
        if (!painter.begin(&svg)) {
            if (error)
                *error = tr("Cannot write %1").arg(path);
            return false;
        }
        render(&painter, QRectF(viewport()->rect()), viewport()->rect());
        painter.end();
        return QFileInfo::exists(path);
    }
    const QPixmap pixmap = grab();
    if (!pixmap.save(path, "PNG")) {
        if (error)
            *error = tr("Cannot write %1").arg(path);
        return false;
    }
    return true;
}

void ChartView::contextMenuEvent(QContextMenuEvent* event)
{
    QMenu menu(this);
    QAction* png = menu.addAction(tr("Save Chart as &PNG\u2026"));
    QAction* svg = menu.addAction(tr("Save Chart as &SVG\u2026"));
    QAction* chosen = menu.exec(event->globalPos());
    if (!chosen)
        return;
    const bool asSvg = chosen == svg;
    (void)png;
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Chart"), QString(),
                                                      asSvg ? tr("SVG images (*.svg)") : tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        QApplication::beep();
}

void ChartView::setCountRange(QValueAxis* axis, double max, int room)
{
    axis->setLabelFormat(u"%d"_s);
    axis->setRange(0, std::max(1.0, max));
    axis->applyNiceNumbers();
    // Nice numbers may step by fractions on a small range; then one tick per whole count.
    const double top = axis->max();
    const int ticks = axis->tickCount();
    if (ticks > 1 && top / (ticks - 1) < 1.0) {
        const int whole = std::max(1, static_cast<int>(std::ceil(top)));
        axis->setRange(0, whole);
        axis->setTickCount(whole + 1);
        return;
    }
    if (room <= 0 || ticks < 3)
        return;
    // Along a horizontal axis Qt Charts gives each label the distance between two ticks and
    // cuts it to "50..." when it is wider: fewer steps, each a nice 1, 2 or 5 times a power of
    // ten, until the widest label fits.
    const QFontMetrics fm(axis->labelsFont());
    const int label = fm.horizontalAdvance(QString::number(static_cast<long long>(top))) + fm.averageCharWidth();
    const double want = std::max(1.0, max);
    double step = top / (ticks - 1);
    int steps = ticks - 1;
    while (steps > 1 && steps * label > room) {
        // The next nice step after this one: 1 -> 2 -> 5 -> 10 times its power of ten.
        const double power = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
        const double m = step / power;
        step = power * (m < 1.5 ? 2.0 : m < 3.5 ? 5.0 : 10.0);
        steps = std::max(1, static_cast<int>(std::ceil(want / step - 1e-9)));
    }
    const double end = step * steps;
    axis->setRange(0, end);
    axis->setTickCount(steps + 1);
}

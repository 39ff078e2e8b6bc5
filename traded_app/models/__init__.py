"""All models, imported here so Alembic and the app see the whole schema."""

from traded_app.models.activities import DeliveryActivity
from traded_app.models.allocations import CoreAllocation
from traded_app.models.audit import AuditEvent
from traded_app.models.base import Base
from traded_app.models.brokering import (
    Engagement,
    EngagementDelivery,
    EngagementStatus,
    OfferStatus,
    RequestStatus,
    ShortlistEntry,
    SupportArea,
    SupportOffer,
    SupportPhase,
    SupportRequest,
)
from traded_app.models.brokering_money import ProviderPayout
from traded_app.models.calendar import BankHoliday, InsetDay, TermPeriod
from traded_app.models.card_payments import (
    CardPaymentReview,
    CardRefund,
    ReviewKind,
    ReviewStatus,
)
from traded_app.models.catalogue import CatalogueStamp, Service, ServicePrice, ServiceVat
from traded_app.models.consolidated import ConsolidatedInvoice, ConsolidatedInvoicePart
from traded_app.models.conversions import DaysTransfer, DaysTransferKind, SchoolConversion
from traded_app.models.council import (
    AcademicYear,
    CouncilSettings,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    QuadrantDistrict,
)
from traded_app.models.courses import (
    Audience,
    Course,
    CourseBooking,
    CourseKind,
    CoursePlace,
    CoursePrice,
    CourseSession,
    PlaceStatus,
)
from traded_app.models.feedback import VisitFeedback
from traded_app.models.finance import (
    DocumentExport,
    ExportBuild,
    ExportBuildStatus,
    ExportKind,
    FinanceExport,
    Reminder,
    ReminderKind,
    ReminderPause,
)
from traded_app.models.gias import GiasImport, GiasImportStatus
from traded_app.models.imports import CsvImport, CsvImportKind, CsvImportStatus
from traded_app.models.instalments import ChargePlan, ChargePlanPart, ScheduledCharge
from traded_app.models.invoice_runs import InvoiceRun, InvoiceRunItem, InvoiceRunStatus
from traded_app.models.invoices import (
    Document,
    DocumentCounter,
    DocumentFigures,
    DocumentLine,
    DocumentSend,
    DocumentType,
    DocumentVatBand,
)
from traded_app.models.jobs import (
    EmailStatus,
    OutgoingEmail,
    PdfCheckFinding,
    PdfProblem,
    ScheduledRun,
)
from traded_app.models.memberships import SchoolMembership
from traded_app.models.orders import Order, OrderEvent, OrderLine, OrderStatus
from traded_app.models.partnership_orders import PartnershipOrder
from traded_app.models.payments import Payment, PaymentKind
from traded_app.models.plans import PartnershipPlan, PlanItem, SharedVisit, plan_item_school
from traded_app.models.quotes import NumberSeries, Quote, QuoteLine, TermsVersion
from traded_app.models.requests import ServiceRequest, ServiceRequestStatus
from traded_app.models.schools import School
from traded_app.models.setup import CouncilLogo, SetupTask
from traded_app.models.statements import (
    Remittance,
    RemittanceDocument,
    RemittanceStatus,
    SendStatus,
    StatementSend,
)
from traded_app.models.trusts import Trust
from traded_app.models.users import User
from traded_app.models.visit_reports import ReportStatus, VisitReport, VisitReportAction
from traded_app.models.visits import (
    AllocationChange,
    AllocationSource,
    CancelledBy,
    ClosureDay,
    Visit,
    VisitStatus,
)
from traded_app.models.year_end import DaysRules, YearClose, YearEndRule

__all__ = [
    "AcademicYear",
    "AllocationChange",
    "AllocationSource",
    "Audience",
    "AuditEvent",
    "BankHoliday",
    "Base",
    "CancelledBy",
    "CardPaymentReview",
    "CardRefund",
    "CatalogueStamp",
    "ChargePlan",
    "ChargePlanPart",
    "ClosureDay",
    "ConsolidatedInvoice",
    "ConsolidatedInvoicePart",
    "CoreAllocation",
    "CouncilLogo",
    "CouncilSettings",
    "Course",
    "CourseBooking",
    "CourseKind",
    "CoursePlace",
    "CoursePrice",
    "CourseSession",
    "CsvImport",
    "CsvImportKind",
    "CsvImportStatus",
    "DaysRules",
    "DaysTransfer",
    "DaysTransferKind",
    "DeliveryActivity",
    "Document",
    "DocumentCounter",
    "DocumentExport",
    "DocumentFigures",
    "DocumentLine",
    "DocumentSend",
    "DocumentType",
    "DocumentVatBand",
    "EmailStatus",
    "Engagement",
    "EngagementDelivery",
    "EngagementStatus",
    "ExportBuild",
    "ExportBuildStatus",
    "ExportKind",
    "FinanceExport",
    "GiasImport",
    "GiasImportStatus",
    "InsetDay",
    "InvoiceRun",
    "InvoiceRunItem",
    "InvoiceRunStatus",
    "NumberSeries",
    "OfferStatus",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "OutgoingEmail",
    "Partnership",
    "PartnershipOrder",
    "PartnershipPlan",
    "Payment",
    "PaymentKind",
    "PdfCheckFinding",
    "PdfProblem",
    "PlaceStatus",
    "PlanItem",
    "ProviderPayout",
    "Quadrant",
    "QuadrantCapacity",
    "QuadrantDistrict",
    "Quote",
    "QuoteLine",
    "Reminder",
    "ReminderKind",
    "ReminderPause",
    "Remittance",
    "RemittanceDocument",
    "RemittanceStatus",
    "ReportStatus",
    "RequestStatus",
    "ReviewKind",
    "ReviewStatus",
    "ScheduledCharge",
    "ScheduledRun",
    "School",
    "SchoolConversion",
    "SchoolMembership",
    "SendStatus",
    "Service",
    "ServicePrice",
    "ServiceRequest",
    "ServiceRequestStatus",
    "ServiceVat",
    "SetupTask",
    "SharedVisit",
    "ShortlistEntry",
    "StatementSend",
    "SupportArea",
    "SupportOffer",
    "SupportPhase",
    "SupportRequest",
    "TermPeriod",
    "TermsVersion",
    "Trust",
    "User",
    "Visit",
    "VisitFeedback",
    "VisitReport",
    "VisitReportAction",
    "VisitStatus",
    "YearClose",
    "YearEndRule",
    "plan_item_school",
]

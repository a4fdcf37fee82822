from creditfile.credit.models.application import (
    ApplicationStep,
    ApprovalDecision,
    ApprovalRule,
    CollectionItem,
    CreditApplication,
    CustomerRefusal,
    LetterTemplate,
    PreContractReview,
    ReplyLetter,
    SiteSurvey,
)
from creditfile.credit.models.evaluation import (
    Evaluation,
    ExternalRating,
    PaymentSummary,
)
from creditfile.credit.models.line import CreditGroup, CreditLine, CreditSecurity, TemporaryLimit
from creditfile.credit.models.policy import GradePolicy, GradeTerms
from creditfile.credit.models.review import AnnualReviewReport, CreditReview
from creditfile.credit.models.sanctions import (
    BlacklistEntry,
    GradeChangeProposal,
    Measure,
    OwnBreach,
    SanctionRule,
)
from creditfile.credit.models.scorecard import Scorecard, ScorecardFactor

__all__ = [
    "AnnualReviewReport",
    "ApplicationStep",
    "ApprovalDecision",
    "ApprovalRule",
    "BlacklistEntry",
    "CollectionItem",
    "CreditApplication",
    "CreditGroup",
    "CreditLine",
    "CreditReview",
    "CreditSecurity",
    "CustomerRefusal",
    "Evaluation",
    "ExternalRating",
    "GradeChangeProposal",
    "GradePolicy",
    "GradeTerms",
    "LetterTemplate",
    "Measure",
    "OwnBreach",
    "PaymentSummary",
    "PreContractReview",
    "ReplyLetter",
    "SanctionRule",
    "Scorecard",
    "ScorecardFactor",
    "SiteSurvey",
    "TemporaryLimit",
]

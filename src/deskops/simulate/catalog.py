"""Static content catalog for the simulated "Lumio" support workspace.

Lumio is a payments and invoicing app for small businesses: web and mobile apps, business debit
cards, payouts to bank accounts, invoices, subscription plans (Free, Starter, Growth, Enterprise),
accounting integrations and a public API.

This module is pure data. Each :class:`Topic` is one help-center article together with the ways
real customers ask about it (``phrasings``), what they say next (``followups``), a message in
Spanish, German and French, how often a human is needed regardless of the article, and,
for a few topics, a product change that makes the article stale.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    key: str
    area: str
    title: str
    summary: str
    steps: tuple[str, ...]
    notes: tuple[str, ...]
    phrasings: tuple[str, ...]
    followups: tuple[str, ...]
    translations: dict[str, str]
    needs_human: float
    change: tuple[str, str] | None = None


AREAS: dict[str, str] = {
    "account": "Account & security",
    "billing": "Plans & billing",
    "payments": "Payments & payouts",
    "cards": "Cards",
    "invoicing": "Invoicing",
    "integrations": "Integrations & API",
    "mobile_app": "Mobile app",
}


TOPICS: tuple[Topic, ...] = (
    # ------------------------------------------------------------------ account
    Topic(
        key="reset_password",
        area="account",
        title="Resetting your password",
        summary=(
            "Use the 'Forgot password?' link on the sign-in page and we'll email you a reset link that "
            "is valid for 60 minutes. If the email doesn't arrive, check spam and make sure you're using "
            "the address on your Lumio account."
        ),
        steps=(
            "Go to app.lumio.com/login and click Forgot password?.",
            "Enter the email address you sign in with and click Send reset link.",
            "Open the email from no-reply@lumio.com and click Reset password within 60 minutes.",
            "Choose a new password of at least 12 characters and sign in again.",
        ),
        notes=(
            "Reset links expire after 60 minutes and can only be used once.",
            "You can request up to 5 reset emails per hour.",
        ),
        phrasings=(
            "forgot my password",
            "cant log in, forgot password",
            "how do i change my password if i don't remember the old one",
            "the reset password email never arrives",
            "reset link says expired",
            "need a new password for lumio",
            "I've tried all my usual passwords and none of them work. How do I set a new one without "
            "locking myself out?",
            "password reset link not working",
            "where do I reset my login password on the website",
            "my bookkeeper changed our password and then left the company, I need to get back in and "
            "set a new one",
            "i clicked the link in the email and it says invalid token",
            "how do I update my password, I think it was leaked in a data breach",
        ),
        followups=(
            "I did that but the email still hasn't come through, it's been 20 minutes.",
            "It's not in spam either. Could it be going to an old address?",
            "Ok I got it now, but it keeps saying my new password is too weak?",
        ),
        translations={
            "es": "Olvidé mi contraseña y no me llega el correo para restablecerla.",
            "de": "Ich habe mein Passwort vergessen und bekomme keine E-Mail zum Zurücksetzen.",
            "fr": "J'ai oublié mon mot de passe et je ne reçois pas l'e-mail de réinitialisation.",
        },
        needs_human=0.05,
    ),
    Topic(
        key="two_factor",
        area="account",
        title="Setting up and recovering two-step verification",
        summary=(
            "Turn on two-step verification in Settings > Security and receive codes by SMS or an "
            "authenticator app. If you lost your phone, sign in with one of your 10 backup codes or start "
            "a recovery request so we can verify your identity and reset it."
        ),
        steps=(
            "Open Settings > Security and click Two-step verification.",
            "Choose SMS or Authenticator app and confirm your number or scan the QR code.",
            "Enter the 6-digit code to confirm, then download and store your 10 backup codes.",
            "Lost your device? Click 'Use a backup code' on the sign-in screen, or 'I can't access my "
            "device' to start a recovery request.",
        ),
        notes=(
            "Two-factor codes can be received by SMS or an authenticator app.",
            "Recovery requests are reviewed within 1 business day.",
            "Each backup code can only be used once.",
        ),
        phrasings=(
            "how do i turn on 2fa",
            "lost my phone, can't get the login code",
            "new phone and my google authenticator codes are gone",
            "not receiving the sms verification code",
            "want to use an authenticator app instead of text messages",
            "where are my backup codes",
            "I switched phones over the weekend and didn't move my authenticator app. Now Lumio asks for "
            "a 6 digit code and I have no way to get it.",
            "can I use authy with lumio",
            "enable two step verification for my account",
            "our security policy says everyone needs MFA, how do I set that up on lumio",
            "changed my phone number and the code still goes to the old one",
            "2fa code keeps saying invalid",
        ),
        followups=(
            "I don't have the backup codes, I never downloaded them. What now?",
            "I submitted the recovery request yesterday, how long until someone looks at it?",
            "Done, it's set up. Will it ask me for a code every single time I log in?",
        ),
        translations={
            "es": "Cambié de móvil y ya no recibo el código de verificación para entrar en Lumio.",
            "de": "Ich habe ein neues Handy und komme ohne den Bestätigungscode nicht mehr in mein Konto.",
            "fr": "J'ai perdu mon téléphone et je ne peux plus recevoir le code de connexion.",
        },
        needs_human=0.25,
        change=(
            "Two-factor codes can be received by SMS or an authenticator app.",
            "Two-step verification now supports passkeys, and new setups can no longer choose SMS codes.",
        ),
    ),
    Topic(
        key="change_email",
        area="account",
        title="Changing the email address on your account",
        summary=(
            "Update your login email in Settings > Profile. We send a confirmation link to the new address "
            "and the change takes effect once you click it; your old address gets a notice and can undo "
            "the change for 48 hours."
        ),
        steps=(
            "Open Settings > Profile and click Edit next to Email.",
            "Enter the new email address and your current password.",
            "Click the confirmation link we send to the new address within 24 hours.",
            "Sign in with the new address from now on; receipts and notifications go there too.",
        ),
        notes=(
            "Confirmation links for a new email address expire after 24 hours.",
            "Your previous address receives a security notice and can reverse the change for 48 hours.",
        ),
        phrasings=(
            "update my login email",
            "I want to use a different email address for lumio",
            "changing my email from gmail to our company domain",
            "how do I switch the email on my account",
            "I'm leaving my old job and need the account moved to my personal email",
            "email address is wrong on my profile",
            "We rebranded and got a new domain, so all our logins need the new addresses. How do I "
            "change mine?",
            "new email confirmation never came",
            "can i change the address where lumio sends everything",
            "made a typo in my email address when I signed up",
            "how to replace account email",
            "I no longer have access to the email I registered with",
        ),
        followups=(
            "I clicked the link but my profile still shows the old email.",
            "Will my team members have to do anything after I change it?",
            "The old address belongs to an employee who left, can you skip sending the notice there?",
        ),
        translations={
            "es": "Quiero cambiar el correo electrónico con el que inicio sesión en mi cuenta.",
            "de": "Wie kann ich die E-Mail-Adresse meines Kontos ändern? Wir haben eine neue Domain.",
            "fr": "Je voudrais changer l'adresse e-mail associée à mon compte.",
        },
        needs_human=0.12,
    ),
    Topic(
        key="team_permissions",
        area="account",
        title="Inviting team members and setting permissions",
        summary=(
            "Owners and Admins can invite teammates from Settings > Team and give each one a role: Admin, "
            "Accountant or Employee. Roles control who can send payments, see balances and manage cards."
        ),
        steps=(
            "Open Settings > Team and click Invite member.",
            "Enter their email and pick a role: Admin, Accountant or Employee.",
            "If they'll get a card, set a spending limit for them.",
            "Click Send invite; they have 7 days to accept.",
            "To change access later, click the member's name and choose Edit role.",
        ),
        notes=(
            "Free includes 1 user, Starter 3 users, Growth 10 users and Enterprise unlimited users.",
            "Invitations expire after 7 days.",
        ),
        phrasings=(
            "add my accountant to lumio",
            "how do I give my bookkeeper access without letting them send money",
            "invite employee",
            "can my business partner have her own login",
            "I need to add three staff members so they can see invoices but not the bank balance. Is "
            "there a read only role?",
            "remove access for someone who left",
            "change a user's role to admin",
            "how many users can I have on my plan",
            "the invite link I sent my colleague expired",
            "share account with my co-founder",
            "set permissions for team",
            "restrict what my assistant can do in the account",
        ),
        followups=(
            "She accepted the invite but says she can't see the Payouts page.",
            "Can I make a custom role? Accountant is close but I don't want them exporting data.",
            "I resent the invite and it still says expired for him.",
        ),
        translations={
            "es": "¿Cómo invito a mi contable para que vea las facturas pero no pueda hacer pagos?",
            "de": "Wie füge ich eine Mitarbeiterin hinzu und lege fest, was sie sehen darf?",
            "fr": "Comment ajouter mon associé au compte avec ses propres identifiants ?",
        },
        needs_human=0.08,
    ),
    Topic(
        key="close_account",
        area="account",
        title="Closing your Lumio account",
        summary=(
            "Close your account from Settings > Account > Close account once your balance is zero, all "
            "cards are cancelled and there are no open disputes. Your records stay downloadable for 90 "
            "days after closing."
        ),
        steps=(
            "Pay out any remaining balance to your bank account.",
            "Cancel any paid subscription and all physical and virtual cards.",
            "Export your transactions and invoices from Reports > Export.",
            "Open Settings > Account, click Close account and confirm with your password.",
        ),
        notes=(
            "The balance must be $0.00 and there must be no open disputes before the account can close.",
            "We keep records for 7 years as required by law; you can download them for 90 days after "
            "closing.",
        ),
        phrasings=(
            "delete my account",
            "how do i close my lumio business account",
            "we're shutting down the business and need to close everything",
            "i want to terminate my account and have my data removed",
            "close account button is greyed out",
            "can you deactivate my account please",
            "We sold the company last month and the new owners use another bank. What do I need to do "
            "to shut our Lumio account down properly?",
            "please remove all my personal info, gdpr request",
            "done with lumio, want out",
            "how to permanently delete the account and all my data",
            "what happens to my money if i close the account",
            "it says I can't close because there's still a balance",
        ),
        followups=(
            "I cancelled the cards but it still won't let me close it.",
            "There's $3.12 left in the balance, the payout minimum won't let me withdraw it.",
            "Will I still be able to get last year's statements for my taxes after it's closed?",
        ),
        translations={
            "es": "Hemos cerrado el negocio y quiero dar de baja la cuenta de Lumio definitivamente.",
            "de": "Ich möchte mein Lumio-Konto endgültig schließen. Was muss ich vorher erledigen?",
            "fr": "Je souhaite clôturer mon compte Lumio, nous cessons notre activité.",
        },
        needs_human=0.35,
    ),
    Topic(
        key="identity_verification",
        area="account",
        title="Verifying your identity and business (KYC)",
        summary=(
            "To activate payouts and cards we verify each business owner's ID and the business itself. "
            "Upload a government photo ID and business documents in Settings > Verification; most reviews "
            "finish within 1-2 business days."
        ),
        steps=(
            "Open Settings > Verification.",
            "Upload a clear photo of a passport, driver's license or national ID for each owner with 25% "
            "or more.",
            "Add business documents such as articles of incorporation or your IRS EIN letter.",
            "Submit and watch your email; if we need more, the status changes to Action required.",
        ),
        notes=(
            "Most verifications are completed within 1-2 business days.",
            "Every owner with 25% or more of the business must be verified.",
            "Documents must be in color, uncropped and not expired.",
        ),
        phrasings=(
            "why do you need my passport",
            "verification still pending after 4 days",
            "what documents do I need to upload for KYC",
            "my id got rejected",
            "the app keeps asking me to verify my business",
            "how long does the identity check take",
            "I uploaded my driver's license twice and both times it says the document couldn't be read. "
            "My payouts are on hold because of this.",
            "proof of address not accepted",
            "do my co-owners need to verify too",
            "account says action required on verification",
            "I'm a sole trader with no incorporation documents, what can I upload instead",
            "confirm my identity",
        ),
        followups=(
            "I re-uploaded it in better light and it was rejected again.",
            "My business partner lives abroad, can she use a foreign passport?",
            "It's been 3 business days now and it still says In review.",
        ),
        translations={
            "es": "Subí mi pasaporte para la verificación hace cuatro días y sigue pendiente.",
            "de": "Welche Dokumente brauche ich für die Verifizierung meines Unternehmens?",
            "fr": "Ma pièce d'identité a été refusée lors de la vérification, que dois-je faire ?",
        },
        needs_human=0.4,
    ),
    Topic(
        key="account_locked",
        area="account",
        title="What to do if your account is locked",
        summary=(
            "After 5 failed sign-in attempts we lock the account for 30 minutes to protect it. If you see "
            "'Account restricted' instead, our risk team has placed a review hold and will ask you for "
            "documents by email."
        ),
        steps=(
            "Wait 30 minutes after a lockout, then try again with the correct password.",
            "If you're unsure of your password, use Forgot password? instead of guessing again.",
            "If the message says Account restricted, check your email for a request from our risk team.",
            "Reply to that email or contact support with the documents requested.",
        ),
        notes=(
            "5 failed sign-in attempts trigger a 30-minute lockout.",
            "Risk reviews are usually resolved within 2 business days after we receive the documents.",
        ),
        phrasings=(
            "my account is locked",
            "too many login attempts, now it says try later",
            "account restricted, why?",
            "why was my account suspended",
            "it says my account is temporarily locked",
            "locked out for 30 minutes, is there a way to unlock sooner",
            "I logged in this morning and got a banner saying my account is under review and I can't "
            "send money. We have payroll on friday!",
            "lumio froze my whole account without any warning",
            "got an email from the risk team asking for documents",
            "why can't I access my funds, account on hold",
            "how to unlock my account",
            "blocked from logging in after entering the wrong password a few times",
        ),
        followups=(
            "I sent the invoices they asked for yesterday, has anyone looked at them?",
            "It's been over an hour and it still says locked.",
            "Can I at least pay out what's in the balance while the review is ongoing?",
        ),
        translations={
            "es": "Mi cuenta aparece como restringida y no puedo enviar pagos. ¿Por qué?",
            "de": "Mein Konto wurde gesperrt und ich komme nicht mehr an mein Geld.",
            "fr": "Mon compte est bloqué après plusieurs tentatives de connexion.",
        },
        needs_human=0.6,
    ),
    # ------------------------------------------------------------------ billing
    Topic(
        key="change_plan",
        area="billing",
        title="Upgrading or downgrading your plan",
        summary=(
            "Change plans any time in Settings > Billing > Change plan. Upgrades take effect immediately "
            "with a prorated charge; downgrades take effect at the end of your current billing period."
        ),
        steps=(
            "Open Settings > Billing and click Change plan.",
            "Compare Free, Starter, Growth and Enterprise and pick the one you want.",
            "Review the prorated amount and click Confirm.",
            "For Enterprise, click Talk to sales and we'll contact you within 1 business day.",
        ),
        notes=(
            "The Starter plan costs $15 per month and Growth costs $39 per month.",
            "Upgrades are prorated immediately; downgrades apply at the next renewal.",
            "Paying annually saves 20%.",
        ),
        phrasings=(
            "upgrade to growth",
            "how much is the starter plan",
            "I want to move to a cheaper plan",
            "switch from monthly to annual billing",
            "what's the difference between starter and growth",
            "downgrade to free",
            "We've hired 5 more people and need more user seats than Starter allows. If I upgrade today "
            "will I be charged for the full month?",
            "pricing for enterprise",
            "do i pay full price if I upgrade in the middle of the month",
            "change my subscription tier",
            "is there a discount if I pay yearly",
            "need more features, how do I go up a plan",
        ),
        followups=(
            "I upgraded but recurring invoices are still locked.",
            "The prorated amount looks wrong, it charged me almost the full month.",
            "If I downgrade, what happens to the extra users and virtual cards?",
        ),
        translations={
            "es": "¿Cuánto cuesta pasar del plan Starter al Growth y cuándo se cobra?",
            "de": "Ich möchte meinen Tarif auf Growth upgraden. Wird der Monat anteilig berechnet?",
            "fr": "Je voudrais passer à une formule moins chère, comment faire ?",
        },
        needs_human=0.08,
        change=(
            "The Starter plan costs $15 per month and Growth costs $39 per month.",
            "Starter now costs $19 per month and Growth costs $49 per month; existing customers keep their "
            "old price until their next renewal.",
        ),
    ),
    Topic(
        key="cancel_subscription",
        area="billing",
        title="Cancelling your paid subscription",
        summary=(
            "Cancel your paid plan in Settings > Billing > Cancel subscription. You keep paid features "
            "until the end of the period you've paid for, then the account moves to the Free plan; your "
            "data and account stay open."
        ),
        steps=(
            "Open Settings > Billing.",
            "Click Cancel subscription and choose a reason.",
            "Confirm the cancellation; you'll get an email confirming the end date.",
            "Keep using paid features until that date, after which the account switches to Free.",
        ),
        notes=(
            "Cancelling does not close your account; it moves to the Free plan at the end of the billing "
            "period.",
            "Annual plans cancelled more than 14 days after renewal are not refunded for the remaining "
            "months.",
        ),
        phrasings=(
            "stop my subscription",
            "how do i cancel my plan but keep the account",
            "I don't want to be billed monthly anymore",
            "turn off auto renewal",
            "cancel growth plan",
            "where is the cancel button for the subscription",
            "We only needed the paid features for tax season. How do I stop the monthly fee without "
            "losing our invoice history?",
            "end my membership",
            "will i lose my data if I cancel the subscription",
            "stop charging my card every month",
            "unsubscribe from the paid plan",
            "I cancelled but it still says Growth",
        ),
        followups=(
            "I didn't get the confirmation email, is it actually cancelled?",
            "What happens to my recurring invoices once it drops to Free?",
            "Can I reactivate later at the same price?",
        ),
        translations={
            "es": "Quiero cancelar mi suscripción de pago pero mantener la cuenta.",
            "de": "Wie kündige ich mein Abo, ohne meine Rechnungsdaten zu verlieren?",
            "fr": "Comment résilier mon abonnement payant ? Je ne veux plus être prélevé.",
        },
        needs_human=0.1,
    ),
    Topic(
        key="subscription_refund",
        area="billing",
        title="Refunds for subscription charges",
        summary=(
            "Monthly plan charges aren't refundable, but annual plans can be refunded in full within 14 "
            "days of purchase or renewal. Accidental duplicate charges are always refunded."
        ),
        steps=(
            "Open Settings > Billing > Billing history and find the charge.",
            "Click Request refund next to it (shown only for eligible charges).",
            "Choose a reason and submit.",
            "The refund goes back to the original card in 5-10 business days.",
        ),
        notes=(
            "Annual plans can be refunded in full within 14 days of purchase or renewal.",
            "Refunds take 5-10 business days to appear on your card statement.",
        ),
        phrasings=(
            "can i get my money back for the annual plan",
            "refund for subscription please",
            "I renewed by accident and want a refund",
            "forgot to cancel before renewal, can you refund",
            "charged for a yearly plan I didn't mean to buy",
            "how long does a subscription refund take",
            "I was charged almost $375 this morning for the annual Growth plan. I meant to downgrade "
            "before it renewed. Can that be reversed?",
            "refund the last month, I didn't use it",
            "what's your money back policy for plans",
            "requested a refund a week ago, nothing yet",
            "prorated refund after downgrading",
            "return my subscription payment",
        ),
        followups=(
            "There's no Request refund button next to the charge.",
            "It's been 15 days, not 14. Can you make an exception?",
            "The refund says processed but my bank doesn't show it.",
        ),
        translations={
            "es": "Se renovó el plan anual sin querer, ¿me podéis devolver el dinero?",
            "de": "Ich wurde versehentlich für das Jahresabo belastet und hätte gerne eine Erstattung.",
            "fr": "J'ai été débité pour l'abonnement annuel par erreur, puis-je être remboursé ?",
        },
        needs_human=0.45,
    ),
    Topic(
        key="update_billing_card",
        area="billing",
        title="Updating the payment method for your subscription",
        summary=(
            "Change the card we charge for your plan in Settings > Billing > Payment method. You can also "
            "choose to pay the subscription from your Lumio balance."
        ),
        steps=(
            "Open Settings > Billing and click Payment method.",
            "Click Replace card and enter the new card details, or choose Pay from Lumio balance.",
            "Click Save; we run a $0 authorization to check the card.",
            "If a payment previously failed, click Retry payment.",
        ),
        notes=(
            "If a subscription payment fails we retry 3 times over 7 days before moving you to Free.",
            "A $0 authorization check runs whenever you add a card.",
        ),
        phrasings=(
            "my card on file expired",
            "change the card you charge for my subscription",
            "subscription payment failed",
            "update billing details",
            "how do I pay for the plan with a different credit card",
            "got an email saying my payment for the plan was declined",
            "Our company card was replaced after fraud so the subscription payment bounced. Where do I "
            "put the new card before we get downgraded?",
            "can I pay the monthly fee from my lumio balance instead",
            "remove the old credit card from billing",
            "update payment method",
            "new card for subscription billing",
            "billing card keeps getting rejected",
        ),
        followups=(
            "I added the new card, do I need to do anything for the failed payment?",
            "It says 'card could not be verified' but the card works everywhere else.",
            "We already got moved to Free, do I lose anything?",
        ),
        translations={
            "es": "Mi tarjeta caducó y el pago de la suscripción ha fallado, ¿dónde pongo la nueva?",
            "de": "Wie ändere ich die Kreditkarte, mit der mein Abo bezahlt wird?",
            "fr": "Ma carte a expiré, comment mettre à jour le moyen de paiement de l'abonnement ?",
        },
        needs_human=0.1,
    ),
    Topic(
        key="billing_receipts",
        area="billing",
        title="Downloading receipts and VAT invoices for your plan",
        summary=(
            "Every subscription charge has a PDF receipt in Settings > Billing > Billing history. Add your "
            "company name, address and VAT or tax ID under Billing details first so they appear on your "
            "receipts."
        ),
        steps=(
            "Open Settings > Billing > Billing details and add your company name, address and VAT or tax ID.",
            "Go to Billing history.",
            "Click Download PDF next to a charge, or Download all to get a ZIP for a date range.",
            "To have receipts emailed automatically, add a billing email under Billing details.",
        ),
        notes=(
            "Billing history keeps receipts for the last 7 years.",
            "Tax IDs added later only appear on new receipts; past ones can be reissued on request.",
        ),
        phrasings=(
            "need an invoice for my subscription for my accountant",
            "where can I download receipts for lumio fees",
            "vat invoice please",
            "add our company VAT number to the receipts",
            "my receipts show my personal name instead of the company",
            "how do I get a copy of last year's billing statements",
            "Our finance team needs proper tax invoices for every monthly charge since January, with our "
            "VAT ID on them. Can I download them in one go?",
            "send receipts to our accounts@ email automatically",
            "billing history pdf",
            "proof of payment for the plan",
            "the receipt doesn't include our tax id",
            "where are my subscription invoices",
        ),
        followups=(
            "I added the VAT number but the old receipts still don't show it.",
            "Download all just gives me an empty zip.",
            "Can the company address be in two lines? Our accountant says it's formatted wrong.",
        ),
        translations={
            "es": "Necesito las facturas de la suscripción con nuestro NIF para contabilidad.",
            "de": "Ich brauche Rechnungen mit unserer USt-IdNr. für alle Abo-Zahlungen seit Januar.",
            "fr": "Où puis-je télécharger les factures de mon abonnement avec notre numéro de TVA ?",
        },
        needs_human=0.1,
    ),
    Topic(
        key="unexpected_charge",
        area="billing",
        title="Understanding an unexpected charge from Lumio",
        summary=(
            "Most unexpected charges are plan renewals, prorated upgrade charges, extra user seats or "
            "instant payout fees. Compare the amount with Settings > Billing > Billing history and the "
            "Fees filter in Transactions."
        ),
        steps=(
            "Open Settings > Billing > Billing history and compare the date and amount.",
            "Open Transactions and filter by Fees to find instant payout, conversion or card fees.",
            "Ask the other Admins on your account whether they changed the plan or added users.",
            "If you still don't recognize it, contact support with the date and amount.",
        ),
        notes=(
            "Users above your plan's limit cost $5 per user per month.",
            "Charges appear on bank statements as LUMIO*SUBSCRIPTION or LUMIO*FEES.",
        ),
        phrasings=(
            "what is this charge from lumio",
            "i was charged twice this month",
            "don't recognize a payment to LUMIO*FEES on my bank statement",
            "why was I billed more than usual",
            "charged $25 extra, no idea why",
            "there's a charge on my card but I'm on the free plan",
            "My bank statement shows two Lumio charges on the 3rd, one for $39 and one for $12.40. I only "
            "expected the subscription. What's the second one?",
            "mystery charge",
            "overcharged this month",
            "what are these fees in my transactions",
            "you took money I didn't authorize",
            "bill is higher than expected",
        ),
        followups=(
            "None of the other admins changed anything, I checked.",
            "So it's for extra users? We removed two people last week.",
            "Ok, can you refund it then? We didn't agree to that.",
        ),
        translations={
            "es": "Veo un cargo de Lumio en mi extracto que no reconozco, ¿qué es?",
            "de": "Auf meinem Kontoauszug sind zwei Abbuchungen von Lumio. Wofür ist die zweite?",
            "fr": "Je ne comprends pas ce prélèvement de Lumio sur mon relevé bancaire.",
        },
        needs_human=0.4,
    ),
    Topic(
        key="trial_ending",
        area="billing",
        title="What happens when your free trial ends",
        summary=(
            "Paid plan trials last 14 days. If you've added a payment method you're charged on day 15 and "
            "keep the plan; otherwise the account moves to Free automatically and nothing is deleted."
        ),
        steps=(
            "Check the days remaining in the banner or in Settings > Billing.",
            "To keep paid features, add a payment method before the trial ends.",
            "To avoid being charged, click Cancel trial in Settings > Billing.",
            "After the trial, your data stays available on the Free plan.",
        ),
        notes=(
            "Trials last 14 days and can only be used once per business.",
            "You're charged on day 15 only if a payment method is on file.",
        ),
        phrasings=(
            "when does my trial end",
            "will I be charged automatically after the trial",
            "how many days are left on my free trial",
            "extend trial please",
            "trial expired and now some features are locked",
            "don't want to pay after the trial",
            "I signed up for the Growth trial last week to test recurring invoices. If I don't add a "
            "card, what happens to everything I set up?",
            "can i get a longer trial, still evaluating",
            "what happens on day 14",
            "do i lose my invoices when the trial is over",
            "trial over, what now",
            "convert trial into paid plan",
        ),
        followups=(
            "I added a card, will it charge me today or when the trial ends?",
            "The banner says 0 days left but I still have Growth features.",
            "Can I switch the trial from Growth to Starter before it ends?",
        ),
        translations={
            "es": "¿Qué pasa cuando termina la prueba gratuita? ¿Me cobrarán automáticamente?",
            "de": "Meine Testphase läuft bald ab. Werde ich automatisch belastet?",
            "fr": "Que se passe-t-il à la fin de l'essai gratuit ? Je ne veux pas être facturé.",
        },
        needs_human=0.1,
    ),
    # ----------------------------------------------------------------- payments
    Topic(
        key="payout_timing",
        area="payments",
        title="When payouts arrive in your bank account",
        summary=(
            "Standard payouts are sent every business day and arrive within 2 business days. Weekends, "
            "bank holidays and your first payout (held for 7 days) can make them take longer."
        ),
        steps=(
            "Open Payments > Payouts to see each payout's status and expected arrival date.",
            "Check the status: Pending, In transit or Paid.",
            "If it says Paid but nothing has arrived, wait until the end of the next business day, then "
            "give your bank the trace ID.",
            "If it's past the expected date, contact support with the payout ID.",
        ),
        notes=(
            "Payouts arrive within 2 business days.",
            "Your first payout is held for 7 days while we review your account.",
            "Payouts are not processed on weekends or bank holidays.",
        ),
        phrasings=(
            "where's my payout",
            "money hasn't reached my bank yet",
            "how long do payouts take",
            "payout stuck in transit",
            "the payout says paid but my bank shows nothing",
            "when will I get my money",
            "I made my first sales on Monday and it's now Thursday and nothing has landed in my account. "
            "Is something wrong?",
            "why is my first payout held for a week",
            "transfer to my bank is taking forever",
            "expected arrival date has passed",
            "do payouts go out on weekends",
            "funds not in my checking account",
        ),
        followups=(
            "It's been 3 business days now and still nothing.",
            "My bank says they need a trace number, where do I find that?",
            "Ok so if I get paid on Friday it won't arrive until Tuesday?",
        ),
        translations={
            "es": "El pago a mi cuenta bancaria aún no ha llegado, ¿cuánto tarda normalmente?",
            "de": "Meine Auszahlung ist noch nicht auf meinem Bankkonto angekommen.",
            "fr": "Mon virement vers mon compte bancaire n'est toujours pas arrivé.",
        },
        needs_human=0.3,
        change=(
            "Payouts arrive within 2 business days.",
            "Standard payouts now arrive the next business day.",
        ),
    ),
    Topic(
        key="payout_failed",
        area="payments",
        title="Fixing a failed payout",
        summary=(
            "Payouts fail when the bank rejects them, usually because of a wrong account or routing "
            "number, a closed account or a name mismatch. The money returns to your Lumio balance in 3-5 "
            "business days and you can retry after fixing your bank details."
        ),
        steps=(
            "Open Payments > Payouts and click the failed payout to see the bank's return reason.",
            "Go to Settings > Bank accounts and click Edit to correct the details, or add a new account.",
            "Make sure the account holder name matches your business or owner name.",
            "Once the returned funds are back in your balance, click Retry payout.",
        ),
        notes=(
            "Returned payouts are credited back to your balance within 3-5 business days.",
            "Changing bank details puts payouts on a 24-hour security hold.",
        ),
        phrasings=(
            "payout failed",
            "bank rejected the transfer",
            "my payout bounced back",
            "i entered the wrong account number",
            "payout returned - account closed",
            "how do I change the bank account my payouts go to",
            "I switched banks last month and forgot to update Lumio. Now there's a red 'Failed' on "
            "yesterday's payout. Where does that money go?",
            "routing number invalid error",
            "name mismatch on payout",
            "update bank details for payouts",
            "returned transfer, when do I get the funds back",
            "new bank account can't receive payouts",
        ),
        followups=(
            "I updated the account but the Retry button is greyed out.",
            "The money still isn't back in my balance after 5 days.",
            "The name on my bank account is my personal name, not the LLC. Is that the problem?",
        ),
        translations={
            "es": "Mi transferencia ha fallado porque cambié de banco. ¿Dónde está el dinero?",
            "de": "Meine Auszahlung ist fehlgeschlagen, die Bank hat sie zurückgewiesen.",
            "fr": "Mon versement a échoué, la banque l'a rejeté. Comment changer mon RIB ?",
        },
        needs_human=0.35,
    ),
    Topic(
        key="payment_not_showing",
        area="payments",
        title="A customer paid but the payment isn't showing",
        summary=(
            "Card payments appear within minutes, but ACH bank transfers take 3-5 business days to clear. "
            "If a customer paid without the right invoice reference, the money may be waiting in "
            "Payments > Unmatched."
        ),
        steps=(
            "Ask the customer how and when they paid, and for a receipt or transaction reference.",
            "Open Payments > All payments and search by amount or customer name.",
            "Check Payments > Unmatched for transfers without a correct invoice reference.",
            "If the customer paid by ACH, allow 3-5 business days from their payment date.",
        ),
        notes=(
            "ACH transfers take 3-5 business days to clear; card payments show within minutes.",
            "Unmatched payments are kept for 30 days before being returned to the sender.",
        ),
        phrasings=(
            "customer says they paid but I don't see it",
            "payment missing from my account",
            "client sent money, not showing in lumio",
            "where is the payment from my customer",
            "customer has a confirmation but nothing on my side",
            "bank transfer from my client hasn't come through",
            "My client emailed me a screenshot showing they paid invoice 1043 on Tuesday by ACH but Lumio "
            "still shows it as unpaid.",
            "incoming payment not received",
            "how long until an ach payment shows up",
            "payment shows on their statement but not in my balance",
            "customer paid with the wrong reference, where is the money",
            "my customer's transfer vanished",
        ),
        followups=(
            "I checked Unmatched and it's not there either.",
            "It's been 6 business days since they sent it.",
            "Found it in Unmatched! How do I attach it to the invoice?",
        ),
        translations={
            "es": "Mi cliente dice que ya pagó la factura pero no veo el pago en Lumio.",
            "de": "Ein Kunde hat überwiesen, aber die Zahlung wird bei mir nicht angezeigt.",
            "fr": "Mon client affirme avoir payé, mais je ne vois pas le paiement dans Lumio.",
        },
        needs_human=0.35,
    ),
    Topic(
        key="chargeback_dispute",
        area="payments",
        title="Responding to a chargeback or dispute",
        summary=(
            "When a customer disputes a card payment with their bank, we hold the amount plus a $15 "
            "dispute fee and you have 7 days to submit evidence. If the bank rules in your favor, both are "
            "returned."
        ),
        steps=(
            "Open Payments > Disputes and click the open dispute.",
            "Read the reason code the customer's bank gave.",
            "Upload evidence such as the invoice, proof of delivery, a contract or emails with the customer.",
            "Click Submit evidence before the due date; you can't edit it afterwards.",
            "Wait for the bank's decision; we'll email you the outcome.",
        ),
        notes=(
            "Each dispute carries a $15 fee, which is refunded if you win.",
            "You have 7 days to respond to a dispute.",
            "Card networks typically take 60-75 days to decide.",
        ),
        phrasings=(
            "customer filed a chargeback",
            "got a dispute notice, what do I do",
            "how do I fight a chargeback",
            "money taken from my balance for a dispute",
            "why was I charged a $15 dispute fee",
            "client disputed the payment with their bank after receiving the work",
            "A customer paid $2,400 for a website project, approved it, and now their bank reversed the "
            "payment saying 'product not received'. How do I prove I delivered?",
            "what evidence should I send for a dispute",
            "dispute deadline",
            "did I win the chargeback",
            "buyer claims fraud on a card payment",
            "reversed card payment",
        ),
        followups=(
            "I submitted the evidence, how long until I hear back?",
            "The customer says they'll withdraw it. Do I still need to respond?",
            "We lost. Can I appeal or charge the customer again?",
        ),
        translations={
            "es": "Un cliente ha abierto una disputa con su banco por un pago con tarjeta, ¿qué hago?",
            "de": "Ein Kunde hat eine Rückbuchung veranlasst. Wie kann ich widersprechen?",
            "fr": "Un client a contesté un paiement par carte auprès de sa banque, comment répondre ?",
        },
        needs_human=0.6,
    ),
    Topic(
        key="transaction_fees",
        area="payments",
        title="Transaction fees explained",
        summary=(
            "Lumio charges 2.9% + $0.30 per card payment (2.5% + $0.30 on Growth) and 0.8% per ACH bank "
            "payment, capped at $5. Transfers between Lumio accounts are free."
        ),
        steps=(
            "Open Payments > All payments and click any payment to see its fee breakdown.",
            "Go to Reports > Fees to see your total fees per month.",
            "Check your plan in Settings > Billing; Growth and Enterprise get reduced card rates.",
            "Download the fee report as CSV for your accountant.",
        ),
        notes=(
            "Card payments cost 2.9% + $0.30; the Growth plan pays 2.5% + $0.30.",
            "ACH payments cost 0.8%, capped at $5.",
        ),
        phrasings=(
            "how much do you charge per transaction",
            "why did I receive less than the invoice amount",
            "what are your card processing fees",
            "fee for ach payments",
            "breakdown of fees on a payment",
            "is there a fee when a customer pays by card",
            "Customer paid $1,000 but only $970.70 landed in my balance. Where did the other $29.30 go?",
            "cheaper rates on growth?",
            "processing costs",
            "do you charge for bank transfers",
            "percentage you take from each sale",
            "annual fee report for taxes",
        ),
        followups=(
            "Can I pass the card fee on to my customer?",
            "So on a $6,000 ACH payment I'd only pay $5?",
            "I'm on Growth but this payment still shows 2.9%.",
        ),
        translations={
            "es": "¿Qué comisión cobráis por cada pago con tarjeta y por transferencia?",
            "de": "Welche Gebühren fallen an, wenn ein Kunde per Karte bezahlt?",
            "fr": "Pourquoi ai-je reçu moins que le montant de la facture ? Quels sont vos frais ?",
        },
        needs_human=0.08,
        change=(
            "Card payments cost 2.9% + $0.30; the Growth plan pays 2.5% + $0.30.",
            "Card payments now cost 2.7% + $0.30 on every plan, including Growth.",
        ),
    ),
    Topic(
        key="instant_payouts",
        area="payments",
        title="Getting paid instantly with Instant Payouts",
        summary=(
            "Instant Payouts send your available balance to an eligible debit card or bank account within "
            "30 minutes, 24/7, for a 1.5% fee (minimum $0.50)."
        ),
        steps=(
            "Open Payments > Payouts and click Pay out now.",
            "Choose Instant and select an eligible debit card or bank account.",
            "Enter the amount and review the 1.5% fee.",
            "Confirm; the money usually arrives within 30 minutes.",
        ),
        notes=(
            "Instant Payouts cost 1.5% of the amount, with a minimum fee of $0.50.",
            "You can send up to $10,000 per instant payout and $50,000 per day.",
            "Instant Payouts are available once your account has been active for 30 days.",
        ),
        phrasings=(
            "can i get my money right now",
            "same day payout option",
            "how do instant payouts work",
            "pay out now button missing",
            "how much is the fee for an instant transfer",
            "need the cash today for rent",
            "I've got supplier bills due this afternoon and my balance is sitting in Lumio. Is there any "
            "way to push it to my debit card immediately?",
            "instant payout not available for my bank",
            "why can't I use instant payouts yet",
            "faster payouts",
            "send balance to my debit card immediately",
            "instant payout limit",
        ),
        followups=(
            "It's been over an hour and the instant payout hasn't arrived.",
            "My bank isn't on the eligible list, can I add a debit card instead?",
            "Why was I charged $0.50 on a $20 payout?",
        ),
        translations={
            "es": "¿Puedo recibir el dinero hoy mismo? Necesito pagar a un proveedor esta tarde.",
            "de": "Gibt es eine Sofortauszahlung auf meine Debitkarte? Was kostet das?",
            "fr": "Est-il possible de recevoir mes fonds immédiatement plutôt que d'attendre ?",
        },
        needs_human=0.1,
    ),
    Topic(
        key="currency_conversion",
        area="payments",
        title="Receiving and converting foreign currency",
        summary=(
            "You can get paid in 20+ currencies; payments are converted to your account currency at the "
            "mid-market rate plus a 1% fee. Growth and Enterprise can hold EUR and GBP balances without "
            "converting."
        ),
        steps=(
            "Set the currency on the invoice or payment link when you create it.",
            "When the payment arrives, check the exchange rate and fee in the payment details.",
            "On Growth or Enterprise, open Balances and click Add currency balance to hold EUR or GBP.",
            "Convert between balances any time under Balances > Convert.",
        ),
        notes=(
            "Conversion costs 1% on top of the mid-market rate.",
            "EUR and GBP balances are available on Growth and Enterprise.",
        ),
        phrasings=(
            "what exchange rate did you use",
            "client in europe wants to pay in euros",
            "can I bill a UK customer in pounds",
            "what fee do you charge to convert currency",
            "hold euros without converting",
            "why did I get fewer dollars than expected from a foreign payment",
            "We just landed our first client in Germany and they want to pay in EUR. Can Lumio handle "
            "that and how much do we lose on the conversion?",
            "fx fees",
            "multi currency account",
            "convert gbp balance to usd",
            "accept canadian dollars",
            "which currencies are supported",
        ),
        followups=(
            "I'm on Starter, so everything gets converted to USD?",
            "The rate I got is worse than what Google shows, more than 1%.",
            "Can I pay a supplier in euros from the EUR balance?",
        ),
        translations={
            "es": "Tengo un cliente en México que quiere pagar en pesos, ¿cuánto cobráis por el cambio?",
            "de": "Kann ich Zahlungen in Euro empfangen, ohne dass sie in Dollar umgerechnet werden?",
            "fr": "Un client veut me payer en euros, quel taux de change appliquez-vous ?",
        },
        needs_human=0.1,
    ),
    # -------------------------------------------------------------------- cards
    Topic(
        key="order_card",
        area="cards",
        title="Ordering a Lumio business debit card",
        summary=(
            "Order physical cards for yourself or your team in Cards > Order card. Your first physical "
            "card is free and each additional one is $5; cards are available once your account is verified."
        ),
        steps=(
            "Open Cards and click Order card.",
            "Choose who the card is for (you or a team member) and the name to print on it.",
            "Confirm the delivery address and choose standard or express shipping.",
            "Click Order; the card appears in Cards with status Ordered.",
        ),
        notes=(
            "The first physical card is free; additional cards cost $5 each.",
            "Cards can only be ordered after identity verification is complete.",
        ),
        phrasings=(
            "how do I get a debit card",
            "request a card for my employee",
            "i want a physical card",
            "order another card",
            "can every team member have a card",
            "is the card free",
            "We're opening a second shop and I want to give the manager her own card with a spending "
            "limit. How do I order one in her name?",
            "order card button not working",
            "get a business card for expenses",
            "how much does an additional card cost",
            "can I choose what name is printed on the card",
            "apply for a lumio card",
        ),
        followups=(
            "It says I need to finish verification first, but I did that weeks ago.",
            "Can I put the business name on the card instead of my name?",
            "I ordered it to the wrong address, can I change it?",
        ),
        translations={
            "es": "¿Cómo pido una tarjeta de débito para un empleado?",
            "de": "Wie bestelle ich eine zusätzliche Firmenkarte für meine Mitarbeiterin?",
            "fr": "Comment commander une carte de paiement pour un de mes employés ?",
        },
        needs_human=0.08,
    ),
    Topic(
        key="card_delivery",
        area="cards",
        title="Tracking your card delivery",
        summary=(
            "Standard delivery takes 5-7 business days; express (2-3 business days) costs $15. Tracking "
            "appears in Cards once the card ships, and if it hasn't arrived after 10 business days you can "
            "cancel and reorder for free."
        ),
        steps=(
            "Open Cards and select the card with status Shipped.",
            "Click Track delivery to open the carrier tracking link.",
            "Check the delivery address shown; contact support right away if it's wrong.",
            "After 10 business days, click Report not received to cancel it and reorder for free.",
        ),
        notes=(
            "Standard delivery takes 5-7 business days; express takes 2-3 business days for $15.",
            "Cards not received after 10 business days are replaced for free.",
        ),
        phrasings=(
            "card hasn't arrived",
            "where is my card",
            "how long does card shipping take",
            "ordered a card two weeks ago, still nothing",
            "tracking number for my card",
            "card not delivered",
            "I ordered a card for my new employee on the 2nd and he still hasn't received it. The app "
            "just says shipped. Can you check where it is?",
            "card was shipped to my old address",
            "can I pay for express delivery",
            "card status stuck on ordered",
            "post never came with the card",
            "need to know where my card is",
        ),
        followups=(
            "The tracking link just says label created.",
            "It's day 8, should I wait or reorder?",
            "If I reorder, will the old card still work if it shows up?",
        ),
        translations={
            "es": "Pedí la tarjeta hace dos semanas y todavía no me ha llegado.",
            "de": "Meine Karte ist immer noch nicht angekommen, obwohl sie als versendet angezeigt wird.",
            "fr": "Je n'ai toujours pas reçu ma carte, commandée il y a deux semaines.",
        },
        needs_human=0.25,
    ),
    Topic(
        key="card_declined",
        area="cards",
        title="Why your card was declined",
        summary=(
            "Declines usually come from insufficient balance, a spending limit, a blocked merchant "
            "category, a wrong PIN or an expired card. The exact reason is shown under the card's Declined "
            "transactions."
        ),
        steps=(
            "Open Cards, select the card and tap Declined transactions to see the reason.",
            "Check your available balance and top up if needed.",
            "Check the card's spending limits and allowed merchant categories in Card settings.",
            "For online payments, make sure online payments are on and the billing address matches your "
            "business address.",
        ),
        notes=(
            "Default card limits are $5,000 per day and $20,000 per month.",
            "Online and international transactions can be switched off per card.",
        ),
        phrasings=(
            "card declined",
            "my card got rejected at the gas station",
            "why won't my card work",
            "payment failed at checkout with my lumio card",
            "card denied but I have money in the account",
            "my employee's card keeps getting declined",
            "I was trying to pay for a software subscription online and it declined three times, even "
            "though the balance is over $8,000. Other cards work fine.",
            "card not working abroad",
            "transaction refused at a supplier",
            "can't pay with my debit card online",
            "declined for exceeding limit",
            "amazon won't accept my card",
        ),
        followups=(
            "There's nothing in Declined transactions, it's like the payment never reached you.",
            "Online payments are already on and it still declines.",
            "How do I raise the daily limit? I need to pay a $7,000 invoice.",
        ),
        translations={
            "es": "Mi tarjeta de Lumio fue rechazada en una compra online aunque tengo saldo.",
            "de": "Meine Karte wurde abgelehnt, obwohl genug Geld auf dem Konto ist.",
            "fr": "Ma carte a été refusée au supermarché alors que j'ai du solde.",
        },
        needs_human=0.3,
    ),
    Topic(
        key="card_freeze",
        area="cards",
        title="Freezing and unfreezing a card",
        summary=(
            "Freeze a card instantly in the app if you've misplaced it or want to pause spending; all new "
            "transactions are blocked until you unfreeze it. Unlike cancelling, freezing keeps the same "
            "card number."
        ),
        steps=(
            "Open Cards and select the card.",
            "Tap Freeze card; the card shows a snowflake icon.",
            "To reactivate it, tap Unfreeze card.",
            "If you believe it's lost or stolen, cancel it instead so a replacement is issued.",
        ),
        notes=(
            "Freezing takes effect instantly, and recurring payments are declined while a card is frozen.",
            "Cards frozen by Lumio for security reasons can only be unfrozen by support.",
        ),
        phrasings=(
            "temporarily block my card",
            "how do I pause my card",
            "unfreeze card",
            "I froze my card and now I found it, how do I turn it back on",
            "card shows a snowflake icon",
            "lock card while I look for it",
            "My card was frozen automatically after a weird transaction alert. I confirmed it was me but "
            "it's still blocked. How do I reactivate it?",
            "stop all spending on an employee card for now",
            "can't find my wallet, want to lock the card quickly",
            "reactivate frozen card",
            "disable card temporarily",
            "turn card back on",
        ),
        followups=(
            "There's no Unfreeze button, it just says contact support.",
            "I unfroze it but my Netflix payment still failed.",
            "Can an employee unfreeze their own card if I froze it?",
        ),
        translations={
            "es": "¿Cómo bloqueo temporalmente mi tarjeta mientras la busco?",
            "de": "Ich habe meine Karte eingefroren und wiedergefunden. Wie entsperre ich sie?",
            "fr": "Comment geler temporairement ma carte, je ne la trouve plus ?",
        },
        needs_human=0.12,
    ),
    Topic(
        key="card_lost_stolen",
        area="cards",
        title="Reporting a lost or stolen card",
        summary=(
            "Cancel a lost or stolen card immediately in Cards > Report lost or stolen; it's blocked for "
            "good and a replacement with a new number is sent. Dispute any transactions you don't recognize "
            "so we can investigate."
        ),
        steps=(
            "Open Cards, select the card and tap Report lost or stolen.",
            "Choose Lost or Stolen and confirm; the card is cancelled permanently.",
            "Review recent transactions and tap Dispute on any you didn't make.",
            "Confirm the address for the replacement card.",
        ),
        notes=(
            "Replacements for lost or stolen cards are free and arrive in 5-7 business days.",
            "Unauthorized transactions must be reported within 60 days.",
        ),
        phrasings=(
            "my card was stolen",
            "lost my card",
            "someone used my card without permission",
            "wallet got stolen last night",
            "need to cancel my card and get a new one",
            "there are purchases on my card I didn't make",
            "I left my card at a restaurant in Chicago and when I checked the app there were two charges "
            "I don't recognize. Please block it!",
            "report card as missing",
            "replacement card after theft",
            "fraudulent charges on company card",
            "card was skimmed",
            "cancel card permanently",
        ),
        followups=(
            "I cancelled it, when do I get the money from the fake charges back?",
            "Can I get the replacement faster? I travel on Monday.",
            "Will my subscriptions move to the new card automatically?",
        ),
        translations={
            "es": "Me han robado la tarjeta y hay cargos que no he hecho.",
            "de": "Meine Karte wurde gestohlen, bitte sperren Sie sie sofort.",
            "fr": "On m'a volé ma carte et il y a des paiements que je n'ai pas faits.",
        },
        needs_human=0.5,
    ),
    Topic(
        key="card_pin",
        area="cards",
        title="Viewing or changing your card PIN",
        summary=(
            "View your PIN in the app under Cards > Show PIN after confirming with Face ID, fingerprint or "
            "passcode. You can change it in the app at any time."
        ),
        steps=(
            "Open the Lumio app and tap Cards.",
            "Select the card and tap Show PIN; confirm with Face ID, fingerprint or passcode.",
            "To set a new PIN, tap Change PIN and enter a new 4-digit PIN twice.",
            "The new PIN works immediately for chip payments; some ATMs need one chip transaction first.",
        ),
        notes=(
            "After 3 wrong PIN entries the PIN is blocked; changing it in the app unblocks it.",
            "PINs must be 4 digits and can't be sequential like 1234.",
        ),
        phrasings=(
            "forgot my pin",
            "what's my card pin",
            "change pin",
            "pin blocked after wrong attempts",
            "where can I see the pin for my new card",
            "never got a pin letter",
            "I typed the wrong PIN three times at the ATM and now it says PIN tries exceeded. I need to "
            "use the card this afternoon.",
            "set a new 4 digit code for my card",
            "incorrect pin at the terminal",
            "can I choose my own pin",
            "reset card pin",
            "pin won't work after changing it",
        ),
        followups=(
            "Show PIN isn't there for my employee's card.",
            "I changed it in the app but the ATM still says incorrect PIN.",
            "Can I see the PIN on the website instead of the app?",
        ),
        translations={
            "es": "No recuerdo el PIN de mi tarjeta, ¿dónde lo puedo ver?",
            "de": "Ich habe meine PIN dreimal falsch eingegeben. Wie kann ich sie zurücksetzen?",
            "fr": "J'ai oublié le code PIN de ma carte, où puis-je le retrouver ?",
        },
        needs_human=0.08,
    ),
    Topic(
        key="atm_withdrawal",
        area="cards",
        title="ATM withdrawals and cash limits",
        summary=(
            "Withdraw cash at any ATM showing the Visa logo. Each card can withdraw up to $500 per day; the "
            "first 2 withdrawals each month are free, then it's $2 per withdrawal."
        ),
        steps=(
            "Insert the card and enter your PIN.",
            "Choose Checking if the ATM asks for an account type.",
            "Check the ATM operator's own fee on screen before confirming.",
            "See your remaining daily cash limit under Cards > card > Limits.",
        ),
        notes=(
            "ATM withdrawals are limited to $500 per day per card.",
            "The first 2 ATM withdrawals each month are free; after that they cost $2 each.",
        ),
        phrasings=(
            "can i take out cash",
            "atm limit",
            "how much can I withdraw per day",
            "fee for using an atm",
            "ATM said transaction not allowed",
            "withdraw cash abroad",
            "I need to pull out $800 in cash for a market stall float tomorrow. What's the maximum the "
            "card lets me take out in one day?",
            "raise my cash withdrawal limit",
            "free atm withdrawals per month",
            "charged $2 for taking money out",
            "which ATMs work with lumio",
            "get cash with my business card",
        ),
        followups=(
            "Can I take out $500 today and $300 at midnight?",
            "The ATM also charged me $3.50, will you refund that?",
            "Can I turn off cash withdrawals for my employees' cards?",
        ),
        translations={
            "es": "¿Cuánto dinero puedo sacar del cajero al día con la tarjeta de Lumio?",
            "de": "Wie viel Bargeld kann ich pro Tag am Automaten abheben und was kostet das?",
            "fr": "Quel est le plafond de retrait au distributeur avec la carte Lumio ?",
        },
        needs_human=0.1,
        change=(
            "ATM withdrawals are limited to $500 per day per card.",
            "ATM withdrawals are now limited to $1,000 per day per card.",
        ),
    ),
    Topic(
        key="virtual_cards",
        area="cards",
        title="Creating virtual cards",
        summary=(
            "Virtual cards work instantly for online and subscription payments and can be added to Apple "
            "Pay or Google Pay. Create them in Cards > New virtual card and give each a spending limit or "
            "make it single-use."
        ),
        steps=(
            "Open Cards and tap New virtual card.",
            "Name the card (for example 'Ads' or 'Software') and assign it to a team member.",
            "Set a monthly limit or choose Single-use.",
            "Tap Create, then copy the card details or add it to Apple Pay or Google Pay.",
        ),
        notes=(
            "Free includes 1 virtual card, Starter 5, Growth 50 and Enterprise unlimited.",
            "Single-use cards are cancelled automatically after the first payment.",
        ),
        phrasings=(
            "virtual card for online subscriptions",
            "can I get a card number right away without waiting for the plastic",
            "create a digital card",
            "separate card for facebook ads",
            "add virtual card to apple pay",
            "single use card number",
            "We pay for about 15 SaaS tools and I want a separate card for each so I can cancel one "
            "without updating the others. Is that possible?",
            "how many virtual cards can I make",
            "card details for online shopping",
            "burner card for a one-off purchase",
            "where do I see the cvv of my virtual card",
            "make a card just for one vendor",
        ),
        followups=(
            "It says I've reached my limit of 5 cards.",
            "Google Pay says the card can't be added.",
            "Can I change the monthly limit after creating it?",
        ),
        translations={
            "es": "¿Puedo crear una tarjeta virtual solo para pagar la publicidad en Facebook?",
            "de": "Wie erstelle ich eine virtuelle Karte für unsere Software-Abos?",
            "fr": "Comment créer une carte virtuelle pour mes abonnements en ligne ?",
        },
        needs_human=0.05,
    ),
    # ---------------------------------------------------------------- invoicing
    Topic(
        key="create_invoice",
        area="invoicing",
        title="Creating and sending an invoice",
        summary=(
            "Create an invoice from Invoices > New invoice, add your customer and line items, and send it "
            "by email or share the payment link. Customers can pay by card or bank transfer straight from "
            "the invoice."
        ),
        steps=(
            "Open Invoices and click New invoice.",
            "Pick an existing customer or add a new one with their email.",
            "Add line items with quantity, price and any tax.",
            "Set the due date and the payment methods you accept.",
            "Click Send, or Copy link to share it yourself.",
        ),
        notes=(
            "The Free plan allows 5 invoices per month; paid plans are unlimited.",
            "Invoices can be paid by card, ACH bank transfer, Apple Pay or Google Pay.",
        ),
        phrasings=(
            "how do i bill a customer",
            "send an invoice",
            "make my first invoice",
            "how to request payment from a client",
            "invoice a customer by email",
            "can I send a payment link instead of an invoice",
            "I just finished a job for a new client and want to send them a bill they can pay by card. "
            "Where do I start?",
            "add line items to an invoice",
            "invoice limit on free plan",
            "create a bill for my services",
            "set due date for an invoice",
            "draft invoice won't send",
        ),
        followups=(
            "I sent it but my customer says they never got the email.",
            "Can I edit an invoice after it's been sent?",
            "How do I attach a PDF of the quote to the invoice?",
        ),
        translations={
            "es": "¿Cómo creo y envío una factura a un cliente para que pague con tarjeta?",
            "de": "Wie erstelle ich eine Rechnung und schicke sie per E-Mail an meinen Kunden?",
            "fr": "Comment créer une facture et l'envoyer à mon client par e-mail ?",
        },
        needs_human=0.05,
    ),
    Topic(
        key="recurring_invoices",
        area="invoicing",
        title="Setting up recurring invoices",
        summary=(
            "Recurring invoices are sent automatically on a schedule (weekly, monthly, quarterly or yearly) "
            "and can charge a customer's saved card. Set them up in Invoices > Recurring on Starter and "
            "above."
        ),
        steps=(
            "Open Invoices > Recurring and click New schedule.",
            "Choose the customer, line items and frequency.",
            "Pick the start date and when it ends: never, after a number of invoices, or on a date.",
            "Turn on Autocharge if the customer has saved a card.",
            "Click Start schedule.",
        ),
        notes=(
            "Recurring invoices are available on Starter, Growth and Enterprise.",
            "Changes to a schedule apply to the next invoice, not to ones already sent.",
        ),
        phrasings=(
            "bill my client automatically every month",
            "set up a monthly retainer invoice",
            "auto send invoice each month",
            "recurring billing for my customers",
            "how do I stop a repeating invoice",
            "change the price on a client's repeating invoice",
            "I charge five cleaning clients the same fee on the 1st of every month. Can Lumio send those "
            "out and take the payment without me doing it manually?",
            "automatically charge a customer's card on a schedule",
            "quarterly invoices",
            "recurring invoice didn't go out this month",
            "edit a scheduled invoice",
            "repeat invoice",
        ),
        followups=(
            "I changed the amount but the invoice that went out today still has the old price.",
            "How does the customer save their card for Autocharge?",
            "Autocharge failed for one client, will it try again?",
        ),
        translations={
            "es": "Quiero enviar la misma factura a un cliente cada mes de forma automática.",
            "de": "Kann ich monatliche Rechnungen automatisch verschicken lassen?",
            "fr": "Comment programmer une facture récurrente chaque mois pour un client ?",
        },
        needs_human=0.1,
    ),
    Topic(
        key="invoice_reminders",
        area="invoicing",
        title="Automatic payment reminders",
        summary=(
            "Lumio can email customers before and after an invoice is due. You can change when reminders "
            "go out and what they say in Settings > Invoicing > Reminders, or turn them off for a single "
            "invoice."
        ),
        steps=(
            "Open Settings > Invoicing > Reminders.",
            "Turn reminders on and choose when they're sent.",
            "Edit the email wording if you like.",
            "To pause reminders for one invoice, open it and switch off Reminders.",
        ),
        notes=(
            "Reminders are sent 3 days before the due date, on the due date, and 7 days after.",
            "Reminders stop automatically once an invoice is paid or marked as paid.",
        ),
        phrasings=(
            "chase unpaid invoices automatically",
            "send a reminder to a client who hasn't paid",
            "customer got a reminder even though they paid",
            "how do I stop the overdue emails to one client",
            "late payment reminders",
            "change when the reminder emails are sent",
            "Half my clients pay late and I hate chasing them. Can Lumio nudge them by email when the "
            "invoice is overdue?",
            "nudge customers about due invoices",
            "edit the reminder email text",
            "turn off payment reminders",
            "how often does lumio remind customers",
            "overdue notice",
        ),
        followups=(
            "I turned them on but my customer says they didn't get anything.",
            "Can I add a late fee to the reminder?",
            "Can I send a reminder right now instead of waiting?",
        ),
        translations={
            "es": "¿Se pueden enviar recordatorios automáticos a los clientes que pagan tarde?",
            "de": "Kann Lumio automatisch Zahlungserinnerungen für überfällige Rechnungen senden?",
            "fr": "Comment envoyer des relances automatiques aux clients qui n'ont pas payé ?",
        },
        needs_human=0.08,
        change=(
            "Reminders are sent 3 days before the due date, on the due date, and 7 days after.",
            "Reminders are now sent on the due date and then every 7 days until paid, up to 4 reminders.",
        ),
    ),
    Topic(
        key="invoice_branding",
        area="invoicing",
        title="Adding your logo and branding to invoices",
        summary=(
            "Customize invoices with your logo, brand color, footer text and business details in Settings "
            "> Invoicing > Branding. Removing the 'Powered by Lumio' footer requires Growth or Enterprise."
        ),
        steps=(
            "Open Settings > Invoicing > Branding.",
            "Upload your logo (PNG or JPG, at least 400 px wide).",
            "Choose a brand color and add footer text such as payment terms.",
            "Click Preview, then Save; changes apply to new and unpaid invoices.",
        ),
        notes=(
            "Logos must be PNG or JPG files under 2 MB.",
            "Removing the 'Powered by Lumio' footer is available on Growth and Enterprise.",
        ),
        phrasings=(
            "put my logo on invoices",
            "change invoice colors",
            "customize how my invoices look",
            "remove powered by lumio from invoices",
            "logo looks blurry on the pdf",
            "add my company address and bank details to the invoice footer",
            "Clients keep telling me my invoices look generic. I'd like our logo and green brand color on "
            "them and a thank-you note at the bottom.",
            "invoice template design",
            "logo upload fails",
            "change the business name shown on invoices",
            "add payment terms text to every invoice",
            "make invoices look professional",
        ),
        followups=(
            "I saved it but invoices I already sent still have the old look.",
            "My logo is an SVG, can I use that?",
            "The color picker doesn't let me enter a hex code.",
        ),
        translations={
            "es": "¿Cómo pongo el logo de mi empresa en las facturas?",
            "de": "Wie kann ich unser Logo und unsere Firmenfarbe auf die Rechnungen bringen?",
            "fr": "Comment ajouter mon logo et mes couleurs sur mes factures ?",
        },
        needs_human=0.05,
    ),
    Topic(
        key="mark_invoice_paid",
        area="invoicing",
        title="Marking invoices as paid and recording partial payments",
        summary=(
            "Invoices paid through Lumio are marked paid automatically. If a customer paid by cash, check "
            "or another bank, open the invoice and click Record payment; enter a partial amount to leave "
            "the rest outstanding."
        ),
        steps=(
            "Open the invoice and click Record payment.",
            "Enter the amount, date and method (cash, check, bank transfer or other).",
            "For a partial payment, enter less than the total; the invoice shows Partially paid with the "
            "remaining balance.",
            "Click Save; reminders stop once the invoice is fully paid.",
        ),
        notes=(
            "Manually recorded payments don't move any money and carry no fee.",
            "To let customers pay part of an invoice online, turn on Allow partial payments on it.",
        ),
        phrasings=(
            "customer paid cash, how do I mark the invoice as paid",
            "record a check payment",
            "client paid half the invoice",
            "allow customers to pay in installments",
            "invoice still shows unpaid but I got the money by bank transfer outside lumio",
            "mark as paid",
            "A customer paid $500 of a $1,200 invoice and will pay the rest next month. How do I show that "
            "on the invoice so the balance is right?",
            "customer only paid part of what they owe",
            "undo marking an invoice paid",
            "customer wants to pay a deposit first",
            "update invoice status manually",
            "settle an invoice offline",
        ),
        followups=(
            "I marked it paid by mistake, how do I reverse that?",
            "Will the customer get a receipt when I record the payment?",
            "The remaining balance is wrong after the second partial payment.",
        ),
        translations={
            "es": "Un cliente me pagó en efectivo, ¿cómo marco la factura como pagada?",
            "de": "Der Kunde hat die Hälfte bezahlt. Wie erfasse ich eine Teilzahlung?",
            "fr": "Mon client a payé en espèces, comment indiquer que la facture est réglée ?",
        },
        needs_human=0.06,
    ),
    Topic(
        key="invoice_numbering",
        area="invoicing",
        title="Changing invoice numbers and prefixes",
        summary=(
            "Lumio numbers invoices sequentially starting at INV-0001. You can change the prefix and the "
            "next number in Settings > Invoicing > Numbering, for example to continue from your previous "
            "system."
        ),
        steps=(
            "Open Settings > Invoicing > Numbering.",
            "Edit the prefix, for example 2024- or ACME-.",
            "Set the next invoice number; it must be higher than any number already used.",
            "Click Save; the change applies to the next invoice you create.",
        ),
        notes=(
            "Invoice numbers must be unique and can't be reused, even for deleted drafts.",
            "Prefixes can be up to 10 characters long.",
        ),
        phrasings=(
            "change invoice number",
            "start invoices at 1000",
            "continue numbering from my old software",
            "invoice prefix",
            "skipped an invoice number, is that a problem",
            "can I reset invoice numbers for the new year",
            "I moved from FreshBooks where I was at invoice 2317, and Lumio started me at INV-0001. My "
            "accountant says the sequence has to continue. How do I fix it?",
            "duplicate invoice number error",
            "customize the invoice id format",
            "reuse the number of a deleted invoice",
            "add the year to invoice numbers",
            "why does my invoice number jump",
        ),
        followups=(
            "I set it to 2318 but the draft I already started still says INV-0004.",
            "Can different customers have different prefixes?",
            "It says the number is already in use, but I deleted that invoice.",
        ),
        translations={
            "es": "¿Puedo cambiar la numeración de las facturas para seguir con la de mi programa anterior?",
            "de": "Wie ändere ich die Rechnungsnummer, damit sie an mein altes System anschließt?",
            "fr": "Comment modifier la numérotation de mes factures et ajouter un préfixe ?",
        },
        needs_human=0.08,
    ),
    Topic(
        key="invoice_tax_rates",
        area="invoicing",
        title="Adding sales tax and VAT to invoices",
        summary=(
            "Create tax rates in Settings > Invoicing > Taxes and apply them per line item or as a default. "
            "Lumio calculates the tax and shows it separately, but it doesn't file or pay taxes for you."
        ),
        steps=(
            "Open Settings > Invoicing > Taxes and click Add tax rate.",
            "Enter a name (for example 'CA Sales Tax'), the percentage and your tax registration number.",
            "Choose whether your prices include tax or have tax added on top.",
            "On an invoice, pick the tax rate on each line item, or set it as the default.",
        ),
        notes=(
            "You can save up to 20 tax rates and apply up to 2 per line item.",
            "Lumio doesn't file or remit taxes; use Reports > Tax summary for your filings.",
        ),
        phrasings=(
            "add sales tax to invoice",
            "how do I charge VAT",
            "tax not calculating on invoice",
            "set up a 20% vat rate",
            "two different taxes on one line, like GST and PST",
            "my prices include tax, how do I show that",
            "I'm in Canada and need to charge 5% GST and 7% PST separately on each invoice. Can I set that "
            "up once instead of typing it every time?",
            "tax exempt customer",
            "show my vat number on invoices",
            "does lumio pay my sales tax for me",
            "tax summary report",
            "default tax rate for all items",
        ),
        followups=(
            "I added the rate but it doesn't show up in the dropdown on the invoice.",
            "The total is off by a cent compared to my calculator.",
            "How do I mark one customer as exempt so tax isn't added?",
        ),
        translations={
            "es": "¿Cómo añado el IVA a mis facturas?",
            "de": "Wie füge ich Mehrwertsteuer zu meinen Rechnungen hinzu?",
            "fr": "Comment ajouter la TVA sur mes factures ?",
        },
        needs_human=0.1,
    ),
    # ------------------------------------------------------------- integrations
    Topic(
        key="quickbooks_sync",
        area="integrations",
        title="Fixing QuickBooks Online sync errors",
        summary=(
            "Lumio syncs transactions, invoices and fees to QuickBooks Online every hour. Most errors come "
            "from an expired connection, a deleted account mapping or a closed accounting period; the Sync "
            "log tells you which."
        ),
        steps=(
            "Open Integrations > QuickBooks and check the Sync log for errors.",
            "If it says Connection expired, click Reconnect and sign in to QuickBooks.",
            "If an account or tax code was deleted in QuickBooks, update it under Account mapping.",
            "If the period is closed in QuickBooks, reopen it or change the sync start date.",
            "Click Sync now to retry.",
        ),
        notes=(
            "Syncs run every hour, and the QuickBooks connection must be renewed every 100 days.",
            "Only QuickBooks Online is supported, not QuickBooks Desktop.",
        ),
        phrasings=(
            "quickbooks not syncing",
            "transactions missing in qbo",
            "sync error with QuickBooks",
            "qb integration disconnected",
            "duplicate entries in quickbooks from lumio",
            "does lumio work with quickbooks desktop",
            "Since last Tuesday none of our Lumio payments are showing up in QuickBooks Online. The "
            "integration page just says 'mapping error'. Our books close on Friday.",
            "intuit connection expired",
            "how do I map lumio fees to an expense account in quickbooks",
            "qbo sync stuck",
            "invoices not pushing to quickbooks",
            "reconnect quickbooks",
        ),
        followups=(
            "I reconnected and clicked Sync now, but the old transactions are still missing.",
            "Now everything from last week shows up twice.",
            "The mapping screen doesn't list the account our accountant created.",
        ),
        translations={
            "es": "Los pagos de Lumio ya no se sincronizan con QuickBooks Online.",
            "de": "Die Synchronisierung mit QuickBooks Online funktioniert seit Tagen nicht mehr.",
            "fr": "La synchronisation avec QuickBooks ne fonctionne plus, il y a une erreur de mappage.",
        },
        needs_human=0.35,
    ),
    Topic(
        key="xero_connection",
        area="integrations",
        title="Connecting Lumio to Xero",
        summary=(
            "Connect Xero from Integrations > Xero to send invoices, payments and fees to Xero "
            "automatically. You need to be an Admin in Xero and choose which Xero organisation to link."
        ),
        steps=(
            "Open Integrations > Xero and click Connect.",
            "Sign in to Xero and pick the organisation to connect.",
            "Choose the clearing account and the accounts for fees and sales.",
            "Pick a start date for the sync and click Start syncing.",
        ),
        notes=(
            "The Xero integration is available on Starter plans and above.",
            "Historical data can be synced back up to 12 months.",
        ),
        phrasings=(
            "link xero",
            "how to connect lumio to xero",
            "xero integration setup",
            "connected the wrong xero organisation",
            "does the xero sync include old transactions",
            "xero bank feed for lumio",
            "I'm an accountant setting up Lumio for a client and want their payments to land in Xero. "
            "Which accounts should I map during setup?",
            "xero says access denied when connecting",
            "switch lumio to a different xero company",
            "sync to xero",
            "is xero available on the free plan",
            "xero keeps disconnecting",
        ),
        followups=(
            "I picked a start date 18 months ago and it only brought in 12.",
            "How do I disconnect and connect the right organisation without duplicating everything?",
            "I'm an Adviser in Xero, not Admin. Is that enough?",
        ),
        translations={
            "es": "¿Cómo conecto Lumio con Xero para que se registren los pagos?",
            "de": "Wie verbinde ich Lumio mit Xero? Ich habe die falsche Organisation gewählt.",
            "fr": "Comment connecter Lumio à Xero pour synchroniser mes factures ?",
        },
        needs_human=0.15,
    ),
    Topic(
        key="api_keys",
        area="integrations",
        title="Creating and managing API keys",
        summary=(
            "Create API keys in Developers > API keys. Use test keys with the sandbox and live keys in "
            "production; the full secret is shown only once, so store it somewhere safe."
        ),
        steps=(
            "Open Developers > API keys (Admins only).",
            "Click Create key, choose Test or Live and give it a name.",
            "Copy the secret key immediately; it won't be shown again.",
            "To rotate, create a new key, update your code, then click Revoke on the old one.",
        ),
        notes=(
            "API keys start with lm_live_ or lm_test_ followed by 32 characters.",
            "The API allows 100 requests per second per key.",
        ),
        phrasings=(
            "where do I find my api key",
            "generate a secret key for our developer",
            "api returns 401 unauthorized",
            "lost my api secret",
            "rotate api keys",
            "test vs live keys",
            "Our developer is building a custom checkout and needs credentials for the sandbox first, "
            "then production. Where do I create those?",
            "sandbox credentials",
            "revoke a compromised key",
            "api key invalid",
            "rate limit on the api",
            "access to the lumio api",
        ),
        followups=(
            "I don't see a Developers section in my menu.",
            "We revoked the old key and now the integration is down, can we undo it?",
            "We keep getting 429 errors during our nightly sync.",
        ),
        translations={
            "es": "¿Dónde genero una clave de API para nuestro desarrollador?",
            "de": "Unsere API-Anfragen geben 401 zurück. Ist unser API-Schlüssel ungültig?",
            "fr": "Où puis-je créer une clé API pour l'environnement de test ?",
        },
        needs_human=0.1,
        change=(
            "API keys start with lm_live_ or lm_test_ followed by 32 characters.",
            "New API keys start with lmk_live_ or lmk_test_ followed by 48 characters, and old-format keys "
            "stop working after June 30.",
        ),
    ),
    Topic(
        key="webhooks",
        area="integrations",
        title="Troubleshooting webhooks",
        summary=(
            "Webhooks send events like payment.succeeded or invoice.paid to your URL. If they aren't "
            "arriving, check the delivery log in Developers > Webhooks: your endpoint must answer with a 2xx "
            "status within 10 seconds."
        ),
        steps=(
            "Open Developers > Webhooks and select the endpoint.",
            "Check Recent deliveries for status codes and response times.",
            "Make sure the URL is public HTTPS and returns 2xx within 10 seconds.",
            "Verify the Lumio-Signature header using the endpoint's signing secret.",
            "Click Resend on any failed event once it's fixed.",
        ),
        notes=(
            "Failed deliveries are retried up to 8 times over 24 hours.",
            "Endpoints that fail for 3 days in a row are disabled automatically.",
        ),
        phrasings=(
            "webhooks not firing",
            "our endpoint isn't getting events",
            "webhook signature verification fails",
            "invoice.paid event never arrived",
            "webhook endpoint disabled",
            "how do I replay a missed event",
            "We set up a webhook for payment.succeeded to update our order system, but since the deploy "
            "yesterday nothing comes through. The dashboard shows 500 errors.",
            "how many times do you retry webhooks",
            "getting duplicate webhook events",
            "which events can I subscribe to",
            "test a webhook locally",
            "callback url not being hit",
        ),
        followups=(
            "We fixed the 500s, can we resend everything from the last two days at once?",
            "The signature still doesn't match even with the new secret.",
            "Recent deliveries is empty, like nothing was ever sent.",
        ),
        translations={
            "es": "Nuestro endpoint ya no recibe los webhooks de pagos desde ayer.",
            "de": "Unsere Webhooks kommen nicht mehr an, im Dashboard stehen 500-Fehler.",
            "fr": "Nos webhooks ne sont plus reçus depuis hier, que faut-il vérifier ?",
        },
        needs_human=0.3,
    ),
    Topic(
        key="shopify_integration",
        area="integrations",
        title="Using Lumio with Shopify",
        summary=(
            "Install the Lumio app from the Shopify App Store to receive Shopify payouts in Lumio and sync "
            "orders to your reports. Setup takes about 5 minutes and needs a Shopify admin."
        ),
        steps=(
            "In Shopify, open the App Store and install Lumio.",
            "Sign in to Lumio and approve the requested permissions.",
            "In Shopify Payments settings, set your Lumio account as the payout bank account.",
            "Back in Lumio, open Integrations > Shopify to confirm orders are syncing.",
        ),
        notes=(
            "Orders are synced every 15 minutes.",
            "Starter can connect 1 Shopify store and Growth up to 3.",
        ),
        phrasings=(
            "connect my shopify store",
            "shopify orders not showing in lumio",
            "get shopify payouts into my lumio account",
            "install lumio app in shopify",
            "can I connect two shopify stores",
            "shopify integration stopped syncing",
            "I sell candles on Shopify and want my weekly Shopify payouts to go to my Lumio account so I "
            "can pay suppliers with the card. How do I set that up?",
            "shopify app permissions",
            "disconnect shopify",
            "ecommerce integration",
            "sync online store sales",
            "use lumio as the bank account for shopify payments",
        ),
        followups=(
            "Shopify says it can't verify the Lumio account number.",
            "Orders from before I installed the app aren't there.",
            "I'm not the store owner, just staff. Can I still install it?",
        ),
        translations={
            "es": "Quiero que los pagos de mi tienda Shopify lleguen a mi cuenta de Lumio.",
            "de": "Wie verbinde ich meinen Shopify-Shop mit Lumio?",
            "fr": "Comment relier ma boutique Shopify à mon compte Lumio ?",
        },
        needs_human=0.15,
    ),
    Topic(
        key="csv_export",
        area="integrations",
        title="Exporting transactions to CSV",
        summary=(
            "Export transactions, payouts, invoices or fees from Reports > Export as CSV or Excel for any "
            "date range. Large exports are emailed to you when they're ready."
        ),
        steps=(
            "Open Reports > Export.",
            "Choose the data type: Transactions, Payouts, Invoices or Fees.",
            "Pick a date range and the columns, and choose CSV or XLSX.",
            "Click Export; files over 10,000 rows are emailed to you within 15 minutes.",
        ),
        notes=(
            "Each export can cover up to 24 months.",
            "Exports over 10,000 rows are sent by email.",
        ),
        phrasings=(
            "download my transactions to excel",
            "export statement as csv",
            "how do I get all my data out for my accountant",
            "export button not working",
            "full transaction history for last year",
            "spreadsheet of all payments",
            "My accountant wants every transaction from last tax year in a spreadsheet with the fees in a "
            "separate column. Is there a way to export that?",
            "export file never arrived by email",
            "csv columns missing",
            "download payouts report",
            "export data for a date range",
            "get a list of invoices in a spreadsheet",
        ),
        followups=(
            "The email came but the download link has expired.",
            "The CSV opens in Excel with all the amounts in one column.",
            "I need 3 years, but it only lets me pick 24 months.",
        ),
        translations={
            "es": "¿Cómo exporto todas las transacciones del año pasado a Excel?",
            "de": "Wie exportiere ich meine Transaktionen als CSV für meinen Steuerberater?",
            "fr": "Comment exporter mes transactions en CSV pour mon comptable ?",
        },
        needs_human=0.05,
    ),
    Topic(
        key="data_import",
        area="integrations",
        title="Importing customers and products",
        summary=(
            "Import customers, products and open invoices from a CSV file in Settings > Import, or connect "
            "PayPal or Stripe to bring customers over automatically. Download the template first so your "
            "columns match."
        ),
        steps=(
            "Open Settings > Import and choose Customers, Products or Invoices.",
            "Download the CSV template and paste your data into it.",
            "Upload the file and match any columns Lumio doesn't recognize.",
            "Review the preview and click Import; you'll get an email listing any rows that failed.",
        ),
        notes=(
            "Each import file can contain up to 5,000 rows.",
            "Imported open invoices keep their original numbers and due dates.",
        ),
        phrasings=(
            "bring my customer list into lumio",
            "import clients from csv",
            "moving from paypal, can I bring my customers over",
            "bulk upload products",
            "import failed, some rows skipped",
            "migrate invoices from another tool",
            "We have about 800 customers in a spreadsheet from our old invoicing software. Typing them in "
            "one by one isn't an option. Can I upload them?",
            "upload contacts",
            "where's the import template",
            "stripe customer migration",
            "the import says invalid email on row 12",
            "add many customers at once",
        ),
        followups=(
            "It imported the customers twice, how do I remove the duplicates?",
            "The import email says 40 rows failed but doesn't say why.",
            "Do imported customers get an email from Lumio?",
        ),
        translations={
            "es": "Tengo 800 clientes en un Excel, ¿puedo importarlos a Lumio de una vez?",
            "de": "Kann ich meine Kundenliste aus einer CSV-Datei importieren?",
            "fr": "Comment importer ma liste de clients depuis un fichier CSV ?",
        },
        needs_human=0.1,
    ),
    # --------------------------------------------------------------- mobile_app
    Topic(
        key="app_crash",
        area="mobile_app",
        title="Fixing app crashes",
        summary=(
            "If the Lumio app closes on launch or freezes, update it to the latest version, restart your "
            "phone and reinstall if needed. Your data lives in your account, so reinstalling doesn't lose "
            "anything."
        ),
        steps=(
            "Update the Lumio app from the App Store or Google Play.",
            "Restart your phone.",
            "If it still crashes, delete the app, reinstall it and sign in again.",
            "If the problem continues, send support your phone model, OS version and app version.",
        ),
        notes=(
            "The app supports iOS 16 and later and Android 10 and later.",
            "Reinstalling the app doesn't delete any account data.",
        ),
        phrasings=(
            "app keeps crashing",
            "lumio closes as soon as I open it",
            "app freezes on the loading screen",
            "android app crashes after update",
            "white screen when launching the app",
            "iphone app won't open",
            "Since this morning's update the app opens, shows the logo for a second and then just closes. "
            "I've restarted my phone twice. iPhone 13, iOS 17.",
            "app force closes when I tap on cards",
            "app not responding",
            "does the app work on older phones",
            "app stuck spinning forever",
            "mobile app broken",
        ),
        followups=(
            "I reinstalled it and it still crashes the same way.",
            "Where do I find the app version number?",
            "The web app works fine, it's only the phone.",
        ),
        translations={
            "es": "La aplicación se cierra sola nada más abrirla desde la última actualización.",
            "de": "Die App stürzt beim Start sofort ab, seit dem letzten Update.",
            "fr": "L'application plante dès que je l'ouvre depuis la mise à jour.",
        },
        needs_human=0.35,
    ),
    Topic(
        key="push_notifications",
        area="mobile_app",
        title="Notifications not arriving",
        summary=(
            "Make sure notifications are allowed for Lumio in your phone's settings and switched on in the "
            "app under Profile > Notifications. Battery savers and Focus modes can also block them."
        ),
        steps=(
            "In the app, open Profile > Notifications and turn on the alerts you want.",
            "In your phone's Settings, allow notifications for Lumio.",
            "Turn off battery saver or Focus/Do Not Disturb, or add Lumio as an exception.",
            "Sign out and back in to re-register your device.",
        ),
        notes=(
            "Push notifications only go to the last 3 devices you signed in on.",
            "Card transaction alerts are sent within seconds of the purchase.",
        ),
        phrasings=(
            "not getting notifications",
            "no alert when a customer pays",
            "push notifications stopped working",
            "turn on transaction alerts",
            "how do I get notified when an invoice is paid",
            "too many notifications, how to turn some off",
            "My wife and I both use the app. She gets a ping every time the card is used but I don't get "
            "anything, even though notifications are on.",
            "app doesn't buzz when money comes in",
            "notification settings",
            "no sound for lumio alerts",
            "alerts come hours late",
            "stop marketing push messages",
        ),
        followups=(
            "Everything is turned on in both places and still nothing.",
            "I use an iPad and two phones, is that why?",
            "Can I get these by email instead?",
        ),
        translations={
            "es": "No me llegan las notificaciones cuando un cliente me paga.",
            "de": "Ich bekomme keine Push-Benachrichtigungen mehr von der App.",
            "fr": "Je ne reçois plus les notifications de l'application Lumio.",
        },
        needs_human=0.1,
    ),
    Topic(
        key="biometric_login",
        area="mobile_app",
        title="Signing in with Face ID or fingerprint",
        summary=(
            "Turn on biometric sign-in in the app under Profile > Security. You'll still be asked for your "
            "password at least every 30 days and whenever the face or fingerprints on your phone change."
        ),
        steps=(
            "Open the Lumio app and sign in with your password.",
            "Go to Profile > Security.",
            "Turn on Use Face ID (iPhone) or Use fingerprint (Android).",
            "Confirm with your face or fingerprint; next time the app will ask for it instead of your "
            "password.",
        ),
        notes=(
            "For security we ask for your password at least every 30 days.",
            "Adding a new face or fingerprint on the phone switches biometric sign-in off until you turn it "
            "on again.",
        ),
        phrasings=(
            "use face id to log in",
            "fingerprint login not working",
            "face id option missing",
            "how do I enable touch id",
            "app asks for my password every time instead of face id",
            "log in without typing my password on my phone",
            "I turned on Face ID in the app last month but since I added a new fingerprint on my phone "
            "it's gone back to asking for my password. How do I switch it back on?",
            "biometric sign in",
            "face unlock for lumio",
            "why do I have to enter my password again",
            "disable face id on the app",
            "quick login on android",
        ),
        followups=(
            "The toggle is greyed out in Profile > Security.",
            "I turned it on but it still asks for the password every time I open the app.",
            "Can my employee use her fingerprint on the shared shop phone?",
        ),
        translations={
            "es": "¿Cómo activo el inicio de sesión con Face ID en la app?",
            "de": "Wie kann ich mich in der App mit meinem Fingerabdruck anmelden?",
            "fr": "Comment activer la connexion avec Face ID dans l'application ?",
        },
        needs_human=0.06,
    ),
    Topic(
        key="app_update_required",
        area="mobile_app",
        title="'Update required' message in the app",
        summary=(
            "We support app versions released in the last 6 months. If you see 'Update required', install "
            "the latest version from the App Store or Google Play; if no update appears, your phone's "
            "operating system may be too old."
        ),
        steps=(
            "Open the App Store or Google Play and search for Lumio.",
            "Tap Update (if it says Open, you already have the latest version).",
            "If no update appears, check that your phone's OS meets the minimum.",
            "Until you can update, use the web app at app.lumio.com.",
        ),
        notes=(
            "The minimum supported app version is 4.2.",
            "The app requires iOS 16 or Android 10 or later.",
        ),
        phrasings=(
            "app says I need to update",
            "update required but no update in the app store",
            "forced to upgrade the app",
            "my phone is too old for the new version",
            "can't use the app until I update",
            "what's the minimum version",
            "The app now blocks me with a message saying this version is no longer supported. The Play "
            "Store shows no update. I'm on a Samsung from 2018.",
            "version no longer supported",
            "is there a way to skip the update",
            "latest app version",
            "app store shows open not update",
            "outdated app error",
        ),
        followups=(
            "I updated and it still shows the same message.",
            "My phone can't go above Android 9, so I'm stuck?",
            "Does the web app work on a phone browser?",
        ),
        translations={
            "es": "La app me dice que tengo que actualizar, pero no aparece ninguna actualización.",
            "de": "Die App verlangt ein Update, aber im Play Store wird keins angezeigt.",
            "fr": "L'application me demande une mise à jour mais rien n'apparaît dans l'App Store.",
        },
        needs_human=0.15,
        change=(
            "The minimum supported app version is 4.2.",
            "The minimum supported app version is now 5.0, which requires iOS 17 or Android 11.",
        ),
    ),
    Topic(
        key="offline_sync",
        area="mobile_app",
        title="Using the app offline and fixing sync issues",
        summary=(
            "When you're offline the app shows your last synced balance and invoices, and drafts you create "
            "are saved and uploaded when you reconnect. Payments, card changes and payouts need a "
            "connection."
        ),
        steps=(
            "Check the banner at the top of the app: Offline means changes will sync later.",
            "Reconnect to Wi-Fi or mobile data and pull down on any screen to refresh.",
            "Open Profile > Sync status to see drafts waiting to upload.",
            "If something still doesn't match the web app, sign out and back in to force a full sync.",
        ),
        notes=(
            "Offline drafts are kept on the device for up to 7 days.",
            "Balances shown offline are from your last sync and show the time they were updated.",
        ),
        phrasings=(
            "can I use the app without internet",
            "invoice I made on the plane disappeared",
            "app and website show different balances",
            "changes on my phone aren't showing on the web",
            "stuck on waiting to sync",
            "app says offline but my wifi works",
            "I created three invoice drafts at a job site with no signal. Now I'm back in the office and "
            "they're not in the web app. Are they lost?",
            "data not refreshing in the app",
            "balance out of date on mobile",
            "draft didn't upload",
            "offline mode",
            "app shows old transactions only",
        ),
        followups=(
            "Sync status says 3 drafts pending but it's been connected for an hour.",
            "If I sign out, will I lose the drafts that haven't synced?",
            "It was more than a week ago, are they gone?",
        ),
        translations={
            "es": "Hice unas facturas sin conexión en la app y no aparecen en la web.",
            "de": "Die App zeigt einen anderen Kontostand als die Website. Wird nicht synchronisiert?",
            "fr": "Les brouillons créés hors connexion dans l'appli n'apparaissent pas sur le site.",
        },
        needs_human=0.2,
    ),
    Topic(
        key="app_language_theme",
        area="mobile_app",
        title="Changing language, dark mode and display settings",
        summary=(
            "Change the app's language, theme (light, dark or match system) and text size in Profile > "
            "Preferences. The web app has the same options under Settings > Preferences."
        ),
        steps=(
            "Open Profile > Preferences in the app.",
            "Tap Language and pick one of the supported languages.",
            "Tap Appearance and choose Light, Dark or Match system.",
            "Changes apply immediately; the language of invoices is set separately for each customer.",
        ),
        notes=(
            "The app is available in English, Spanish, French, German, Portuguese and Italian.",
            "Invoice language is set per customer, not by your app language.",
        ),
        phrasings=(
            "switch app to spanish",
            "is there a dark version of the app",
            "how do I change the language",
            "app is in german and I can't read it",
            "text is too small in the app",
            "turn off dark theme",
            "My phone is set to French but I want Lumio in English because my team talks about it in "
            "English. Can I change just the app?",
            "change display language",
            "night mode for lumio",
            "is the app available in portuguese",
            "invoices going out in the wrong language",
            "change appearance back to light",
        ),
        followups=(
            "I changed it to English but some screens are still in French.",
            "Match system is on but the app stays light when my phone is dark.",
            "How do I set a customer's invoices to Spanish?",
        ),
        translations={
            "es": "¿Cómo cambio el idioma de la aplicación a español?",
            "de": "Wie stelle ich die App auf den Dunkelmodus um?",
            "fr": "Comment mettre l'application en français ?",
        },
        needs_human=0.05,
    ),
)

LAUNCHABLE: tuple[str, ...] = (
    "shopify_integration",
    "xero_connection",
    "quickbooks_sync",
    "instant_payouts",
    "currency_conversion",
    "virtual_cards",
    "recurring_invoices",
    "invoice_branding",
    "biometric_login",
    "offline_sync",
    "team_permissions",
)
"""Topics about a feature a launch could bring: the launch-surge incident picks one."""

INTEGRATIONS: dict[str, str] = {
    "shopify_integration": "shopify",
    "xero_connection": "xero",
    "quickbooks_sync": "quickbooks",
}
"""Topics about connecting an integration, and its name in ``integration_connected`` events."""


GREETINGS: tuple[str, ...] = (
    "Hi,",
    "Hi there,",
    "hello there",
    "Hey team -",
    "Good morning.",
    "",
    "",
    "",
    "",
    "hi",
    "Hello,",
    "hey",
    "Hi Lumio support,",
    "Good afternoon,",
    "Hello support team.",
    "hiya",
    "Dear Lumio,",
    "hey guys",
)

SIGNOFFS: tuple[str, ...] = (
    "Thanks!",
    "thx",
    "Any help appreciated.",
    "",
    "",
    "",
    "Thank you.",
    "Cheers",
    "thanks in advance",
    "Regards,",
    "Appreciate it!",
    "ty",
    "Please let me know asap.",
    "Best,",
    "thanks a lot",
)

URGENCY: tuple[str, ...] = (
    "This is urgent,",
    "third time asking.",
    "I need this sorted today.",
    "Really frustrated here.",
    "URGENT:",
    "this is costing me money",
    "Please help, clients are waiting.",
    "I've been waiting days for a reply.",
    "asap please",
    "I have payroll tomorrow!!",
)

AI_CLARIFY: tuple[str, ...] = (
    "Could you tell me which account or business this is about?",
    "Can you share roughly when this happened and the amount involved?",
    "Are you seeing this in the mobile app, the web app, or both?",
    "Could you share the exact error message you see, or a screenshot?",
    "Just to make sure I help with the right thing: is this about your Lumio subscription or a payment "
    "from one of your customers?",
    "Which card or team member is this related to? The last 4 digits are enough.",
    "Have you already tried any steps? That way I won't suggest something you've done.",
    "Do you have a reference number for this, such as an invoice, payout or transaction ID?",
)

AI_HANDOVER: tuple[str, ...] = (
    "I'm going to bring in a member of our support team who can look into your account directly. They'll "
    "reply here shortly.",
    "This needs someone with access to your account details, so I've passed the conversation to a "
    "specialist. You won't need to repeat anything.",
    "I've handed this over to our team; a person will pick it up within a few hours (Mon-Fri, 8am-8pm ET).",
    "Thanks for your patience. I'm connecting you with a human agent who can review this case.",
    "I don't want to guess on something this important, so I've escalated it to our payments team. "
    "They'll follow up here and by email.",
    "Let me transfer you to a colleague who can help with this. The current response time is under 2 hours.",
    "I wasn't able to resolve this myself, so I've created a ticket for our support team with everything "
    "you've told me.",
)

AI_ANSWER_INTROS: tuple[str, ...] = (
    "Here's how to do that:",
    "Good question! Here's what you need to know:",
    "Sure, I can help with that.",
    "Thanks for reaching out. Here's what to do:",
    "Happy to help. This usually comes down to a few things:",
    "Got it. You can sort this out in a few steps:",
    "Here's a quick guide:",
    "I understand, that's frustrating. Let's fix it:",
)

HUMAN_REPLIES: tuple[str, ...] = (
    "Hi, {name} here from Lumio support. I've looked at your account and can see what happened. I've "
    "fixed it on our side, so it should look right within the next hour.",
    "Thanks for waiting. I've escalated this to our payments team with all the details and will update "
    "you as soon as I hear back, usually within 1 business day. - {name}",
    "Hi there, I'm {name}. Sorry about the trouble! Could you send me a screenshot of what you're seeing? "
    "That will help me pin it down quickly.",
    "I've checked and everything on our end looks correct now. Could you try again and let me know if it "
    "works?",
    "Apologies for the slow reply. I've reset this for you, so you should be good to go.",
    "Thanks for the extra details. This is a known issue our engineers are working on; I've linked your "
    "conversation to it so you'll hear from us as soon as it's fixed.",
    "I can confirm we've received your documents. Our team is reviewing them and you'll get an email "
    "once it's done, normally within 2 business days.",
    "Hi, this is {name}. I've processed that for you just now, and you'll get a confirmation email in a "
    "few minutes.",
    "For security reasons I can't make that change over chat. I've sent a verification link to the email "
    "on your account; once you complete it, I'll take care of the rest.",
    "I understand how stressful this is, especially with payroll coming up. I've marked it high priority "
    "and I'll personally follow up by end of day. {name}",
    "Good news: I've refunded the charge. It can take 5-10 business days to show up, depending on your bank.",
    "Looks like everything is sorted, so I'll close this conversation for now. Just reply here if "
    "anything comes up and it'll come straight back to me. Have a great day! - {name}",
    "Thanks for your patience while I looked into this. The bank returned the transfer, so I've added "
    "a note to your account and you can retry it once your details are updated.",
)

HUMAN_FIRST_NAMES: tuple[str, ...] = (
    "Maya",
    "Daniel",
    "Priya",
    "Lucas",
    "Sofia",
    "Marcus",
    "Aisha",
    "Tom",
    "Elena",
    "Kenji",
    "Grace",
    "Omar",
    "Hannah",
    "Diego",
    "Chloe",
    "Nikhil",
    "Rosa",
    "Ben",
)

CUSTOMER_THANKS: tuple[str, ...] = (
    "that worked, thanks",
    "perfect",
    "Great, all sorted now. Thank you!",
    "ok found it",
    "thanks that helps",
    "Brilliant, cheers",
    "that did it!",
    "ahh ok got it now, thank you",
    "super helpful, thanks",
    "makes sense, thanks",
)

CUSTOMER_UNHAPPY: tuple[str, ...] = (
    "that doesn't answer my question",
    "can I talk to a person?",
    "agent",
    "I already tried that.",
    "this is useless",
    "human please",
    "No, that's not what I asked.",
    "You're not understanding. I need someone to look at my account.",
    "still not working",
    "speak to a real person",
)

# The commune staff's back office (triage, report page, counter intake, notices).
staff-nav-label = Back-office
staff-nav-triage = À trier
staff-nav-intake = Guichet
staff-nav-notices = Avis de service
staff-nav-dashboard = Tableau de bord

staff-status-new = Nouveau
staff-status-unrouted = Non attribué
staff-status-acknowledged = Pris en compte
staff-status-in-progress = En cours
staff-status-paused = En pause
staff-status-resolved = Résolu
staff-status-closed = Clos
staff-status-rejected = Renvoyé par l'opérateur
staff-status-duplicate = Doublon
staff-status-reopened = Rouvert

staff-channel-app = Application
staff-channel-web = Site web
staff-channel-open311 = Open311
staff-channel-phone = Téléphone
staff-channel-counter = Guichet

staff-priority-low = Basse
staff-priority-normal = Normale
staff-priority-high = Haute
staff-priority-urgent = Urgente

staff-triage-title = Signalements à trier
staff-triage-lead = Signalements qu'aucun contrat ne couvre et signalements renvoyés par les opérateurs, les plus récents d'abord.
staff-triage-caption = File de tri
staff-triage-empty = Rien à trier pour le moment.
staff-pager-label = Pages
staff-first-page = Première page

staff-col-reference = Référence
staff-col-service = Service
staff-col-status = Statut
staff-col-channel = Canal
staff-col-created = Signalé le
staff-col-description = Description
staff-col-priority = Priorité
staff-col-due = Échéance
staff-col-operator = Opérateur et contrat
staff-col-place = Position (lat., long.)
staff-col-supporters = Soutiens

staff-candidate = { $reference } à { $distance } m
staff-actor-unknown = Compte supprimé
staff-actor-resident = Résident
staff-actor-system = Balagh (automatique)

staff-event-created = Signalement reçu
staff-event-routed = Attribué à un opérateur
staff-event-unrouted = Aucun contrat ne couvre ce lieu
staff-event-supported = Soutien d'un résident
staff-event-status-changed = Statut changé
staff-event-assigned = Agent désigné
staff-event-comment = Commentaire
staff-event-moderated = Description modérée
staff-event-duplicate-merged = Doublon fusionné
staff-event-rated = Note du résident
staff-event-sla-warning = Alerte de délai
staff-event-sla-breached = Délai dépassé
staff-event-dispute-opened = Contestation ouverte
staff-event-dispute-decided = Contestation tranchée
staff-event-photo-added = Photo ajoutée
staff-event-photo-moderated = Photo modérée
staff-event-priority-changed = Priorité changée

staff-done-route = Le signalement a été attribué.
staff-done-duplicate = Le signalement a été fusionné avec l'original.
staff-done-dismiss = Le signalement a été classé.
staff-done-priority = La priorité a été enregistrée.
staff-done-moderate = La modération a été enregistrée.
staff-done-comment = Le commentaire a été ajouté.
staff-done-notice = L'avis a été publié.

staff-error-stale = Quelqu'un a modifié ce signalement entre-temps : voici son état actuel. Recommencez si c'est encore utile.
staff-error-status = Cette action n'est plus possible dans ce statut.
staff-error-invalid = Vérifiez le formulaire : { $detail }
staff-error-other = L'action n'a pas pu être enregistrée. Réessayez.

staff-back-to-triage = ← Signalements à trier
staff-report-title = Signalement
staff-facts = En bref
staff-description = Description
staff-description-hidden = Masquée au public et aux opérateurs (modération)
staff-moderate-reason = Motif de la modération
staff-show-description = Rétablir la description
staff-hide-description = Masquer la description
staff-contact = Contact du résident (rappel)
staff-contact-note = Visible du personnel de la commune seulement, jamais des opérateurs.
staff-contact-name = Nom
staff-contact-phone = Téléphone
staff-route = Attribuer
staff-route-contract = Contrat
staff-route-covering = Contrats dont la zone contient ce lieu
staff-route-other-zones = Autres zones du même service
staff-note = Note (facultative)
staff-route-submit = Attribuer à ce contrat
staff-duplicate = Doublon
staff-duplicate-none = Aucun signalement ouvert du même service à proximité.
staff-duplicate-of = Signalements du même service à proximité
staff-duplicate-submit = Marquer comme doublon de celui-ci
staff-dismiss = Classer sans suite
staff-dismiss-reason = Motif
staff-dismiss-submit = Classer
staff-priority = Priorité
staff-priority-submit = Enregistrer la priorité
staff-comment = Commentaire
staff-comment-text = Texte
staff-comment-public = Visible du résident
staff-comment-submit = Ajouter le commentaire
staff-history = Historique

staff-intake-title = Guichet : saisir un signalement
staff-intake-lead = Pour un résident venu au guichet ou qui appelle : le signalement suit le même circuit que ceux de l'application.
staff-intake-step-service = 1. Le service concerné
staff-intake-continue = Continuer
staff-intake-step-details = 2. Le signalement
staff-intake-channel = Reçu
staff-intake-where = Lieu
staff-intake-district = Quartier
staff-intake-district-none = — choisir —
staff-intake-coordinates-note = Ou, si le résident les connaît, les coordonnées exactes (elles l'emportent sur le quartier).
staff-intake-lat = Latitude
staff-intake-lon = Longitude
staff-intake-submit = Enregistrer et imprimer le reçu
staff-intake-error-place = Indiquez le quartier ou les coordonnées.
staff-intake-error-outside = Ce lieu est hors de la commune.

staff-receipt-title = Reçu de signalement
staff-receipt-reference = Votre référence
staff-receipt-by = Enregistré par
staff-receipt-next = Conservez cette référence : elle permet de suivre le signalement au guichet ou par téléphone. La commune vous rappellera au numéro donné.
staff-receipt-print = Imprimer le reçu
staff-receipt-open = Ouvrir le signalement
staff-receipt-another = Nouveau signalement

staff-notices-title = Avis de service
staff-notices-lead = Coupures prévues, retards de collecte, déviations : les résidents de la zone sont prévenus.
staff-notices-current = Avis en cours
staff-notices-none = Aucun avis en cours.
staff-notice-title = Titre
staff-notice-kind = Type
staff-notice-services = Services concernés
staff-notice-until = Jusqu'au
staff-notice-actions = Actions
staff-notice-end = Terminer
staff-notice-publish = Publier un avis
staff-notice-duration = Durée
staff-notice-hours = { $hours ->
    [one] { $hours } heure
   *[other] { $hours } heures
}
staff-notice-area = Zone concernée
staff-notice-map-help = Cliquez sur la carte pour placer les sommets de la zone (trois au moins), ou choisissez un quartier ci-dessous : la zone dessinée l'emporte.
staff-notice-map-label = Carte de la commune : cliquez pour dessiner la zone de l'avis
staff-notice-clear = Effacer la zone dessinée
staff-notice-points = Sommets placés :
staff-notice-district = Ou un quartier entier
staff-notice-texts = Texte de l'avis
staff-notice-title-fr = Titre en français
staff-notice-body-fr = Texte en français
staff-notice-title-ar = Titre en arabe
staff-notice-body-ar = Texte en arabe
staff-notice-submit = Publier l'avis
staff-notice-error-area = Dessinez la zone sur la carte (trois sommets au moins) ou choisissez un quartier.
staff-notice-kind-planned-interruption = Coupure prévue
staff-notice-kind-collection-delay = Retard de collecte
staff-notice-kind-diversion = Déviation
staff-notice-kind-other = Autre

staff-photos = Photos
staff-photos-none = Aucune photo.
staff-photo-alt = Photo du signalement
staff-photo-approved = publiable
staff-photo-pending = non publiée (à valider)
staff-photo-approve = Publier la photo
staff-photo-hide = Retirer la photo
staff-photo-by-resident = Prise par le résident
staff-photo-by-operator = Prise par l'opérateur
staff-photo-by-staff = Prise par la commune
staff-done-photo = La modération de la photo a été enregistrée.

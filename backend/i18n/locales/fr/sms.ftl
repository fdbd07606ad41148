# The SMS conversation (issue 21). Keep each message short: an SMS holds 160 Latin
# characters (70 in Arabic script). Darija written in Latin letters has its own messages
# (sms-ary-*) in ar/sms.ftl.
sms-group-waste = Déchets
sms-group-lighting = Éclairage
sms-group-transport = Bus
sms-ask-service = Balagh : quel problème ? { $menu }. Répondez par le numéro. AIDE pour l'aide.
sms-service-not-understood = Pas compris. Répondez par un numéro : { $menu }
sms-ask-place = Où ? Un lieu connu, une rue, un quartier, ou « ligne 7 arrêt 3 » pour le bus.
sms-place-not-found = Lieu introuvable. Essayez un lieu connu, une rue, un quartier, ou « ligne 7 arrêt 3 ».
sms-ask-description = Lieu : { $place }. Décrivez le problème en quelques mots.
sms-created = Merci. Signalement { $reference } enregistré. Suivi : STATUT { $reference }. STOP pour ne plus recevoir de SMS.
sms-help = Balagh : écrivez le problème (déchets, éclairage, bus), puis le lieu. STATUT <référence> pour le suivi, STOP pour arrêter.
sms-unknown-language = Balagh : écrivez en français ou en arabe, ex. « lampadaire éteint ». AIDE pour l'aide.
sms-too-long = Message trop long ({ $max } caractères au plus). Envoyez un message plus court.
sms-stopped = Vous ne recevrez plus de SMS de Balagh. Écrivez-nous pour reprendre.
sms-status-usage = Écrivez STATUT suivi de la référence, ex. STATUT TET-7K2M9Q4X.
sms-status = Signalement { $reference } : { $status }.
sms-status-unknown = Aucun signalement { $reference }.
sms-status-change = Votre signalement { $reference } : { $status }.
sms-error = Désolé, une erreur est survenue. Réessayez plus tard.
sms-status-new = reçu
sms-status-unrouted = reçu, en cours d'orientation
sms-status-acknowledged = pris en charge
sms-status-in_progress = en cours de traitement
sms-status-paused = en attente
sms-status-resolved = résolu
sms-status-closed = clos
sms-status-rejected = non retenu
sms-status-duplicate = fusionné avec un signalement existant
sms-status-reopened = rouvert

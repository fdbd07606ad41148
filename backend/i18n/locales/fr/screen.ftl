# Screens in the commune's reception areas (issue 21).
screen-title = Informations de la commune
screen-notices-heading = Avis de service près d'ici
screen-urgent-heading = Avis urgent
screen-no-notices = Aucun avis de service en cours près d'ici.
screen-notice-until = Jusqu'au { $time }
screen-services-heading = État des services
screen-services-period = Chiffres publiés pour { $period }
screen-services-none = Aucun chiffre publié pour l'instant.
screen-district = Secteur { $district }
screen-outside-zones = hors secteurs
screen-new = { $count ->
    [one] { $count } signalement reçu
   *[other] { $count } signalements reçus
}
screen-resolved = { $count ->
    [one] { $count } résolu
   *[other] { $count } résolus
}
screen-withheld = trop peu de signalements pour publier
screen-within-sla = { $percent } % résolus dans les délais
screen-median = Délai médian de résolution : { $hours } h
screen-how-heading = Comment signaler un problème
screen-how-web = Scannez le code ou ouvrez { $url }
screen-how-sms = Par SMS au { $number }
screen-how-counter = Au guichet : { $hours }
screen-qr-label = Code QR vers l'application de signalement
screen-updated = Mis à jour le { $time }
screen-stale = Réseau indisponible : ces informations datent du { $time } et ne sont peut-être plus à jour.
screen-listen = Écouter
screen-revoked = Cet écran n'est plus enregistré.

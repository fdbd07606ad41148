//! The personal-data screen against a corpus of complaints as residents of Tétouan write
//! them, in French, Arabic and Darija (Arabic script and Latin-script "arabizi"): what it
//! catches and what it wrongly holds back, printed as figures. Run with `--nocapture` to
//! see them.

use balagh_domain::publish::screen;

/// Texts with personal data (each must be held back).
const PERSONAL: &[&str] = &[
    // French
    "Lampadaire éteint devant chez moi, appelez-moi au 06 61 23 45 67",
    "Contact : 0661234567",
    "Merci de me rappeler au +212 6 61 23 45 67",
    "mon numéro 07.12.34.56.78 si besoin",
    "écrivez-moi à fatima.zahra@gmail.com",
    "Je m'appelle Karim Bennani, j'habite en face",
    "Mon nom est Salma El Idrissi",
    "CIN L456789, je suis le propriétaire du magasin",
    "La voiture 45612-أ-1 est garée sur le trottoir depuis une semaine",
    "Camion immatriculé 23456 - ب - 40 qui déverse des gravats",
    "le conducteur de la WW 123456 jette des ordures",
    "Mon fixe: 05 39 71 23 45",
    "0021266123456 7 numéro de mon voisin",
    "Tél 00212661234567",
    "N° de CIN: AB123456",
    // Arabic
    "المصباح مطفأ منذ أسبوع، رقمي ٠٦٦١٢٣٤٥٦٧",
    "اسمي محمد العلمي وأسكن قرب المدرسة",
    "اتصلوا بي على 0612345678",
    "بريدي الإلكتروني hassan.t@outlook.fr",
    "السيارة رقم 12345-ط-6 تعرقل مرور الشاحنة",
    "أنا اسمي خديجة، الحاوية ممتلئة",
    "رقم الهاتف: ٠٧٠٠١٢٣٤٥٦",
    // Darija (Arabic script and arabizi)
    "سميتي يوسف، الطوبيس ما داز",
    "smiti Youssef, tobis ma jach lyoum",
    "ana smiti Hamza, l'poubelle 3amra",
    "3ayto lia f 0661234567 ila bghitou",
    "esmi Nadia w lampa tafya",
    "numero dyali 06-12-34-56-78",
    "ila bghiti tswelni: nadia.b@yahoo.fr",
    "tomobil 98765-و-1 waqfa f trottoir",
];

/// Ordinary complaints (each must pass).
const CLEAN: &[&str] = &[
    "Lampadaire éteint depuis 3 jours rue 12",
    "Bus ligne 7 en retard de 40 minutes, arrêt 15",
    "Poubelle débordée, 2 sacs par terre",
    "Poteau n° 4521 penché, danger",
    "Le bus A4 ne passe plus depuis lundi",
    "Dépôt sauvage près du marché central, environ 30 sacs",
    "Lumière allumée en plein jour avenue Mohammed V",
    "Bac vert cassé, couvercle manquant",
    "La collecte n'est pas passée depuis le 12 novembre 2026",
    "Arrêt de bus 215 sans abri",
    "Signalé par plusieurs voisins, merci d'intervenir",
    "Plus de 20 minutes d'attente à 8h30",
    "الحاوية ممتلئة منذ يومين قرب المسجد",
    "الإنارة العمومية معطلة في الشارع الرئيسي",
    "الحافلة رقم 5 متأخرة كل صباح",
    "الأزبال متراكمة قرب السوق منذ ثلاثة أيام",
    "عمود الإنارة 118 مائل",
    "الطوبيس ديال الخط 10 ما دازش اليوم",
    "lpoubelle 3amra mn lbare7",
    "tobis dyal ligne 2 dima m3ettel",
    "lampa tafya f zen9a 14",
    "chi 3 ayam w zbel ma thaz",
    "Still not fixed since last week.",
    "Streetlight 2231 flickering every night",
    "Le problème dure depuis plusieurs jours.",
];

#[test]
fn the_screen_catches_personal_data_and_lets_complaints_through() {
    let missed: Vec<&&str> = PERSONAL.iter().filter(|t| screen(t).is_empty()).collect();
    let held: Vec<(&&str, Vec<_>)> = CLEAN
        .iter()
        .map(|t| (t, screen(t)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    let caught = PERSONAL.len() - missed.len();
    println!(
        "personal-data screen: caught {caught} of {} texts with personal data ({:.1} %), \
         held back {} of {} ordinary complaints ({:.1} %)",
        PERSONAL.len(),
        100.0 * caught as f64 / PERSONAL.len() as f64,
        held.len(),
        CLEAN.len(),
        100.0 * held.len() as f64 / CLEAN.len() as f64,
    );
    assert!(missed.is_empty(), "missed: {missed:?}");
    assert!(held.is_empty(), "held back: {held:?}");
}

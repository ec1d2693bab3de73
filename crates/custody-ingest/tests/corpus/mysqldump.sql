-- MySQL dump 10.13  Distrib 8.0.36
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` int NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `display_name` varchar(100) DEFAULT NULL COMMENT 'shown; (public)',
  `bio` text,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `users` WRITE;
INSERT INTO `users` VALUES (1,'alex@example.org','Alex Smith','it\'s a \"bio\"\nline two'),(2,'bo@example.org',NULL,'semi; colon (paren)'),(3,'sam@example.com','Sam Patel','back\\slash');
INSERT INTO `orders` VALUES (10,'x@example.org');
UNLOCK TABLES;
